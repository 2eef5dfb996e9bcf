from . import test_contracts, test_match, test_messages, test_transmission
