"""Money in the plan: every cost estimate above its ceiling is said before anything starts.

Apply refuses work above ``lifecycle.max_cost`` (a firm estimate blocks the action; for a
pre-estimate the kind checks the service's own figure before it submits). That refusal
comes late - after the approval, possibly hours into an apply - so the plan lists each
breach itself: a marked line under the action, a line in the summary, and with
``plan --detailed-exitcode`` its own exit code (8), so CI can stop a pull request.

A breach names its ceiling, so mission-wide budgets (issue 18: ``budget: {max, currency}``)
add breaches with ``address=None`` to the same list, shown and counted the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ..providers.base import Cost


class Planned(Protocol):
    """What :func:`breaches` reads of a planned action (plan.model.Action)."""

    @property
    def address(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def cost(self) -> Cost | None: ...


#: actions that would spend what they estimate (a delete or a wait costs nothing new)
SPENDING = ("create", "replace", "update")


@dataclass(frozen=True)
class BudgetBreach:
    """An estimate above a ceiling: a resource's ``lifecycle.max_cost`` (``address`` set)
    or, later, the mission's budget (``address`` None)."""

    address: str | None
    estimate: float
    limit: float
    currency: str
    ceiling: str = "lifecycle.max_cost"
    firm: bool = True  # False: a pre-estimate; the service's own figure decides at apply

    def __str__(self) -> str:
        what = self.address or "the mission"
        text = (f"{what}: estimate {self.estimate:,.2f} {self.currency} is above {self.ceiling} "
                f"{self.limit:,.2f}")
        if self.firm:
            return text + "; apply will not submit it"
        return text + ("; a pre-estimate: apply checks the service's own figure and does not submit "
                       "above the ceiling")

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address, "estimate": self.estimate, "limit": self.limit,
                "currency": self.currency, "ceiling": self.ceiling, "firm": self.firm}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BudgetBreach:
        return cls(address=data.get("address"), estimate=float(data["estimate"]), limit=float(data["limit"]),
                   currency=str(data.get("currency", "")), ceiling=str(data.get("ceiling", "lifecycle.max_cost")),
                   firm=bool(data.get("firm", True)))


def breaches(actions: Iterable[Planned], mission: Any) -> list[BudgetBreach]:
    """Every planned estimate above its resource's ``lifecycle.max_cost``, in plan order."""
    out = []
    for action in actions:
        resource = mission.resources.get(action.address)
        if action.cost is None or action.action not in SPENDING or resource is None:
            continue
        limit = resource.lifecycle.max_cost
        if limit is not None and action.cost.amount > limit:
            out.append(BudgetBreach(action.address, action.cost.amount, limit, action.cost.currency,
                                    firm=action.cost.firm))
    return out
