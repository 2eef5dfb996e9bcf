"""How much of a supplier contract's ceiling is used: plain arithmetic, no ORM.

Committed is what confirmed orders at the contract are worth, invoiced what posted bills
on those orders are worth (net of refunds), both in the contract's currency. A bill may
go beyond its order (an overridden price or quantity), so the contract is consumed by the
larger of the two. Without a ceiling nothing is remaining and no percentage applies.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Consumption:
    """What a contract's figures come to, in the contract's currency."""

    consumed: float
    remaining: float
    percent: float
    over_ceiling: bool


def consumption(ceiling, committed, invoiced):
    """The consumption of a contract with ``ceiling`` (0: none) from its two values.

    ``remaining`` goes negative when the contract is overrun, so that the overrun shows.
    """
    consumed = max(committed or 0.0, invoiced or 0.0)
    if not ceiling or ceiling <= 0:
        return Consumption(consumed, 0.0, 0.0, False)
    return Consumption(
        consumed=consumed,
        remaining=ceiling - consumed,
        percent=consumed / ceiling * 100.0,
        over_ceiling=consumed > ceiling,
    )
