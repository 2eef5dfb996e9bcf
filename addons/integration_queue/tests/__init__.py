from . import (
    test_access_rpc,
    test_fairness,
    test_gateway,
    test_gateway_hostile,
    test_jobs,
    test_openapi,
    test_outbound,
    test_outbound_guard,
    test_registry,
    test_runner,
    test_secrets,
    test_signing,
)
