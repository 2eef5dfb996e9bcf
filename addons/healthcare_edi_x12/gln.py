"""GS1 Global Location Numbers: 13 digits, the last a GS1 mod-10 check digit.

Plain Python, shared by the facility, company and supplier GLN fields.
"""


def check_digit(digits):
    """The GS1 mod-10 check digit of ``digits`` (the number without its check digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def gln_error(value):
    """Why ``value`` is not a GLN, or None when it is one."""
    if not value:
        return "a GLN is required"
    if not (isinstance(value, str) and value.isdigit() and len(value) == 13):
        return "a GLN is 13 digits"
    if check_digit(value[:12]) != value[12]:
        return f"the check digit of {value} should be {check_digit(value[:12])}"
    return None


def is_gln(value):
    return gln_error(value) is None
