"""Money in the plan: every cost estimate above its ceiling is said before anything starts.

Apply refuses work above ``lifecycle.max_cost`` (a firm estimate blocks the action; for a
pre-estimate the kind checks the service's own figure before it submits). That refusal
comes late - after the approval, possibly hours into an apply - so the plan lists each
breach itself: a marked line under the action, a line in the summary, and with
``plan --detailed-exitcode`` its own exit code (8), so CI can stop a pull request.

A breach names its ceiling, so the mission's budget (``budget: {max, currency}``) adds a
breach with ``address=None`` to the same list, shown and counted the same way; it names
the items that make up the total, and apply refuses the whole plan before any request
(:func:`refuse_over_budget`, exit 7). :func:`summarize` is the plan's cost: the total by
currency, the largest items, and the resources with no estimate - listed as "cost
unknown", never counted as zero, so a total with unknowns is a lower bound.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import PlanRefused
from ..providers.cost import Confidence, Cost
from ..spec.budget import MissionBudget
from ..state.spend import SpentSoFar


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
#: the ceiling a mission-wide breach names
MISSION_CEILING = "budget.max"
#: how many of the dearest items the plan names
LARGEST = 3


@dataclass(frozen=True)
class BudgetBreach:
    """An estimate above a ceiling: a resource's ``lifecycle.max_cost`` (``address`` set)
    or, later, the mission's budget (``address`` None)."""

    address: str | None
    estimate: float
    limit: float
    currency: str
    ceiling: str = "lifecycle.max_cost"
    firm: bool = True  # False: a pre-estimate or a rough one; apply does not block on it
    confidence: Confidence = Confidence.OPERATOR_PRICE
    items: tuple[str, ...] = ()  # a mission breach: the resources its total is made of, dearest first
    spent: float = 0.0  # a mission breach: what the state records as spent already (in ``estimate``)

    def __str__(self) -> str:
        what = self.address or "the mission"
        if self.address is None:
            return (
                f"{what}: {self.total_text} is above {self.ceiling} "
                f"{self.limit:,.2f} (items: {', '.join(self.items) or 'none'}); apply will not start"
            )
        text = f"{what}: estimate {self.estimate:,.2f} {self.currency} is above {self.ceiling} {self.limit:,.2f}"
        if self.firm:
            return text + "; apply will not submit it"
        if self.confidence is Confidence.ROUGH:
            return text + "; a rough estimate: shown, not enforced (apply submits it)"
        return text + ("; a pre-estimate: apply checks the service's own figure and does not submit above the ceiling")

    @property
    def total_text(self) -> str:
        """A mission breach's total in words: what is spent and what the plan adds, when both."""
        if not self.spent:
            return f"estimated total {self.estimate:,.2f} {self.currency}"
        return (
            f"spent {self.spent:,.2f} {self.currency} + this plan {self.estimate - self.spent:,.2f} "
            f"= {self.estimate:,.2f} {self.currency}"
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "address": self.address,
            "estimate": self.estimate,
            "limit": self.limit,
            "currency": self.currency,
            "ceiling": self.ceiling,
            "firm": self.firm,
            "confidence": str(self.confidence),
        }
        if self.items:  # a mission breach: what its total is made of
            out["items"] = list(self.items)
        if self.spent:  # a mission breach counting what is spent already
            out["spent"] = self.spent
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BudgetBreach:
        firm = bool(data.get("firm", True))
        return cls(
            address=data.get("address"),
            estimate=float(data["estimate"]),
            limit=float(data["limit"]),
            currency=str(data.get("currency", "")),
            ceiling=str(data.get("ceiling", "lifecycle.max_cost")),
            firm=firm,
            confidence=Confidence(data.get("confidence") or ("operator-price" if firm else "pre-estimate")),
            items=tuple(str(i) for i in data.get("items", ())),
            spent=float(data.get("spent", 0.0)),
        )


def breaches(actions: Iterable[Planned], mission: Any) -> list[BudgetBreach]:
    """Every planned estimate above its resource's ``lifecycle.max_cost``, in plan order."""
    out = []
    for action in actions:
        resource = mission.resources.get(action.address)
        if action.cost is None or action.action not in SPENDING or resource is None:
            continue
        limit = resource.lifecycle.max_cost
        if limit is not None and action.cost.amount > limit:
            out.append(
                BudgetBreach(
                    action.address,
                    action.cost.amount,
                    limit,
                    action.cost.currency,
                    firm=action.cost.firm,
                    confidence=action.cost.confidence,
                )
            )
    return out


@dataclass(frozen=True)
class CostSummary:
    """What a plan's spending actions are estimated to cost, derived from its actions."""

    totals: dict[str, float]  # currency -> sum of the estimates in it
    items: list[tuple[str, Cost]]  # (address, estimate), dearest first
    unknown: list[str]  # spending actions whose kind gave no estimate, in plan order

    @property
    def largest(self) -> list[tuple[str, Cost]]:
        return self.items[:LARGEST]

    def to_json(self) -> dict[str, Any]:
        return {
            "total": dict(self.totals),
            "unknown": list(self.unknown),
            "largest": [{"address": a, "amount": c.amount, "currency": c.currency} for a, c in self.largest],
        }


def summarize(actions: Iterable[Planned]) -> CostSummary:
    """The total by currency, the items dearest first, and the spending actions of unknown cost."""
    totals: dict[str, float] = {}
    items: list[tuple[str, Cost]] = []
    unknown: list[str] = []
    for action in actions:
        if action.action not in SPENDING:
            continue
        if action.cost is None:
            unknown.append(action.address)
            continue
        if action.cost.is_free:  # known to cost nothing: in no currency's total, not unknown
            continue
        totals[action.cost.currency] = totals.get(action.cost.currency, 0.0) + action.cost.amount
        items.append((action.address, action.cost))
    items.sort(key=lambda item: -item[1].amount)  # stable: equal amounts keep plan order
    return CostSummary(totals, items, unknown)


def mission_breaches(
    summary: CostSummary, budget: MissionBudget | None, spent: SpentSoFar | None = None
) -> list[BudgetBreach]:
    """The mission's breach when what is spent plus what the plan adds, in the budget's
    currency, is above its max. A plan that adds nothing is never over (it spends nothing)."""
    if budget is None:
        return []
    adds = summary.totals.get(budget.currency, 0.0)
    already = spent.totals.get(budget.currency, 0.0) if spent is not None else 0.0
    if not adds or already + adds <= budget.max:
        return []
    items = tuple(a for a, c in summary.items if c.currency == budget.currency)
    return [
        BudgetBreach(
            None, already + adds, budget.max, budget.currency, ceiling=MISSION_CEILING, items=items, spent=already
        )
    ]


def other_currencies(summary: CostSummary, budget: MissionBudget | None) -> list[str]:
    """Currencies of estimates the budget cannot count (skyform converts no money)."""
    if budget is None:
        return []
    return sorted(c for c in summary.totals if c != budget.currency)


def refuse_over_budget(breaches_: Iterable[BudgetBreach]) -> None:
    """PlanRefused (exit 7) when the plan's total is above the mission's budget.

    Called before anything is asked or sent: an over-budget mission must not start and
    then stop half-way with money spent.
    """
    over = [b for b in breaches_ if b.address is None]
    if over:
        b = over[0]
        raise PlanRefused(
            f"over the mission's budget: the {b.total_text} is above "
            f"budget.max {b.limit:,.2f}; nothing was sent. Items: {', '.join(b.items)}",
            hint="lower the work (or raise budget.max in the mission) and plan again",
        )
