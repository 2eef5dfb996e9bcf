from . import (
    account_move,
    contract_procurement_sync,
    purchase_contract,
    purchase_contract_line,
    purchase_order,
    purchase_order_transmission,
    res_partner,
)
