from . import test_gateway, test_jobs, test_outbound, test_secrets, test_signing
