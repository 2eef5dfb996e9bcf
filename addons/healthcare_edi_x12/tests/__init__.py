from . import (
    test_identity,
    test_inbound,
    test_outbound,
    test_story,
    test_x12_library,
)
