from . import (
    integration_gateway,
    integration_message,
    integration_partner,
    purchase_order,
    res_company,
    res_partner,
    stock_picking,
    stock_warehouse,
    x12_control_number,
    x12_document,
    x12_ship_notice,
    x12_supplier_account,
    x12_sync,
)

# isort: split
# after x12_sync: the handlers extend it
from . import handlers
