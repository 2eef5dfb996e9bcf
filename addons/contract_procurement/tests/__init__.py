from . import (
    test_contracts,
    test_four_eyes,
    test_match,
    test_messages,
    test_partner_scope,
    test_security_rpc,
    test_transmission,
)
