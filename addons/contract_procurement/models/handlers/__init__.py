# one module per inbound message type; each extends contract.procurement.sync with
# its @message_handler method (the registry finds it on the model, wherever declared)
from . import (
    contract_upsert,
    purchase_acknowledgement,
    purchase_request,
    supplier_status,
    vendor_bill,
)
