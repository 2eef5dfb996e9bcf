from . import test_gateway, test_jobs, test_outbound, test_runner, test_secrets, test_signing
