# one module per inbound message type; each extends x12.sync with its @message_handler
from . import ship_notice, x12_interchange
