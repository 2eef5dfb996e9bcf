from . import (
    healthcare_inventory_sync,
    healthcare_replenishment,
    healthcare_stock_overview,
    healthcare_sync_state,
    integration_demo,
    integration_mapping,
    integration_partner,
    product_template,
    stock_move,
    stock_picking,
    stock_warehouse,
    stock_warehouse_orderpoint,
)

# isort: split
# after the model they extend
from . import handlers
