from . import (
    test_access,
    test_gs1,
    test_inventory_messages,
    test_partner_scope,
    test_partner_text,
    test_visibility,
)
