from . import test_gs1, test_inventory_messages, test_visibility
