from . import (
    test_append_only,
    test_audit_rules,
    test_chain,
    test_chain_concurrency,
    test_correlation,
    test_export,
    test_retention,
)
