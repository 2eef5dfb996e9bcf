from . import (
    test_bill_policy,
    test_contracts,
    test_four_eyes,
    test_match,
    test_menus,
    test_messages,
    test_partner_scope,
    test_review_holes,
    test_routing,
    test_security_rpc,
    test_transmission,
)
