"""What a mission has spent so far, as its state records it.

Each recorded resource keeps, in ``private["skyform.spent"]``, one entry per run of paid
work that apply carried out for it (a create, and each update the kind estimates): the
figure the service reported for that work (``Result.cost`` with confidence ``quote``:
iTwin's units for a submitted job, then for the finished one) where it reports one, else
the estimate applied, marked ``"source": "estimate"`` (the plan's, or the kind's on the
values resolved at apply when the plan could not know them). A later figure for the same
run replaces the earlier one. Work of unknown cost adds no entry: it is not counted as
zero, it is not counted at all.

The plan adds what it would spend to what the resources recorded now have spent, so the
mission's ``budget.max`` caps the two together. A resource removed from state (destroyed,
forgotten) leaves the total with its record; its entries stay readable in the history
events of its transitions. The key sits beside the engine's ``skyform.lifecycle``: no
migration, and a store of before simply has no entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..providers.cost import Confidence, Cost

#: The key of ``ResourceState.private`` under which the engine keeps what a resource cost.
SPENT_KEY = "skyform.spent"

Source = Literal["service", "estimate"]


@dataclass(frozen=True)
class Spent:
    """One run of paid work on a resource: what it cost and where the figure comes from."""

    cost: Cost
    source: Source  # "service": the provider's reported figure (a quote); "estimate": skyform's

    def to_json(self) -> dict[str, Any]:
        return {**self.cost.to_json(), "source": self.source}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Spent:
        return cls(Cost.from_json(data), "service" if data.get("source") == "service" else "estimate")


def entries(private: Mapping[str, Any]) -> list[Spent]:
    """The runs a record's ``private`` holds (none for a record of before)."""
    raw = private.get(SPENT_KEY)
    if not isinstance(raw, list):
        return []
    return [Spent.from_json(e) for e in raw if isinstance(e, Mapping) and "amount" in e]


def source_of(cost: Cost) -> Source:
    """A quote is the service's own figure; anything else skyform estimated."""
    return "service" if cost.confidence is Confidence.QUOTE else "estimate"


def recorded(private: Mapping[str, Any], *, new_run: bool, estimate: Cost | None, reported: Cost | None) -> list[Any]:
    """The entries after a call's result: a new run appends (the figure of its result, else
    the plan's estimate), a later figure for the same run replaces the last one's."""
    runs = entries(private)
    figure = reported if reported is not None and not reported.is_free else None
    if new_run:
        chosen = figure or (estimate if estimate is not None and not estimate.is_free else None)
        if chosen is not None:
            runs.append(Spent(chosen, source_of(chosen)))
    elif figure is not None:
        if runs:
            runs[-1] = Spent(figure, source_of(figure))
        else:  # a job applied before spend was recorded, reporting now
            runs.append(Spent(figure, source_of(figure)))
    return [r.to_json() for r in runs]


@dataclass(frozen=True)
class SpentSoFar:
    """What the recorded resources have cost, by currency, and which figures are estimates."""

    totals: dict[str, float]
    estimated: list[str]  # addresses with at least one run counted at the plan's estimate

    @classmethod
    def nothing(cls) -> SpentSoFar:
        return cls({}, [])

    def to_json(self) -> dict[str, Any]:
        return {"total": dict(self.totals), "estimated": list(self.estimated)}

    @classmethod
    def from_json(cls, data: Any) -> SpentSoFar:
        if not isinstance(data, Mapping):
            return cls({}, [])
        total = data.get("total") or {}
        return cls({str(k): float(v) for k, v in total.items()}, [str(a) for a in data.get("estimated") or []])


def so_far(records: Iterable[Any]) -> SpentSoFar:
    """The spend of ``records`` (``ResourceState``s), in their order."""
    totals: dict[str, float] = {}
    estimated: list[str] = []
    for rs in records:
        runs = entries(rs.private)
        for run in runs:
            if run.cost.amount:
                totals[run.cost.currency] = totals.get(run.cost.currency, 0.0) + run.cost.amount
        if any(r.source == "estimate" and r.cost.amount for r in runs):
            estimated.append(rs.address)
    return SpentSoFar(totals, estimated)
