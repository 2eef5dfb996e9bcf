# the mixin first: models below inherit it
from . import contract_procurement_guarded

# isort: split
from . import (
    account_journal,
    account_move,
    audit_story,
    contract_procurement_sync,
    integration_demo,
    integration_partner,
    product_category,
    purchase_contract,
    purchase_contract_line,
    purchase_order,
    purchase_order_transmission,
    res_partner,
    stock_move,
    stock_warehouse,
)

# isort: split
# after purchase_order_transmission: extends the approval actions defined there
from . import purchase_order_approval

# isort: split
# after the model they extend
from . import handlers
