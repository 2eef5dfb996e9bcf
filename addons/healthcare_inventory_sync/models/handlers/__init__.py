# one module per inbound message type; each extends healthcare.inventory.sync with
# its @message_handler method (the registry finds it on the model, wherever declared)
from . import (
    inventory_consumption,
    inventory_receipt,
    inventory_snapshot,
    inventory_transfer_request,
)
