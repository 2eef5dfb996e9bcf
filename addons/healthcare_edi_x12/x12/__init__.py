"""A small ANSI X12 reader and writer: envelopes, validation and 997s. Plain Python.

- :mod:`.envelope`: separators from the ISA, segments, functional groups and
  transaction sets, with the control-number and count checks (SE01/SE02,
  GE01/GE02, IEA01/IEA02);
- :mod:`.ack`: the 997 functional acknowledgment (AK1..AK9) of a parsed group,
  and the TA1 of an interchange whose envelope fails;
- :mod:`.documents`: the 850/855/856/810/997 sets read into canonical dicts
  and the 850 written from one.
"""

from .envelope import (
    Delimiters,
    ElementError,
    Interchange,
    Segment,
    X12Error,
    parse,
    write_interchange,
)
