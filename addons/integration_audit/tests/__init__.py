from . import (
    test_access_rights,
    test_append_only,
    test_audit_rules,
    test_audit_switch,
    test_chain,
    test_chain_anchor,
    test_chain_concurrency,
    test_chain_purge,
    test_correlation,
    test_export,
    test_redteam,
    test_retention,
)
