from . import (
    test_access,
    test_gs1,
    test_inventory_messages,
    test_line_errors,
    test_partner_scope,
    test_partner_text,
    test_proposal_views,
    test_replenishment_refresh,
    test_stock_overview,
    test_sync_health,
    test_tours,
    test_visibility,
)
