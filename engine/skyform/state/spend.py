"""What a mission has spent so far, as its state records it.

Each recorded resource keeps, in ``private["skyform.spent"]``, one entry per run of paid
work that apply carried out for it (a create, and each update the kind estimates): the
figure the service reported for that work (``Result.cost`` with confidence ``quote``:
iTwin's units for a submitted job, then for the finished one) where it reports one, else
the estimate applied, marked ``"source": "estimate"`` (the plan's, or the kind's on the
values resolved at apply when the plan could not know them). A later figure for the same
run replaces the earlier one. Work of unknown cost adds no entry: it is not counted as
zero, it is not counted at all.

The plan adds what it would spend to what the mission has spent, so the mission's
``budget.max`` caps the two together. Money spent stays spent when its record goes: a
resource removed from state (destroyed, replaced, forgotten, ``state rm``) moves its
entries to the mission's ledger, ``MissionState.attributes["skyform.spent"]``, in the
same transaction that removes the record (the SQL store's ``write``), and the total
counts the ledger with the live records. The keys sit beside the engine's
``skyform.lifecycle``: no migration, and a store of before simply has no entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..providers.cost import Confidence, Cost

#: The key of ``ResourceState.private`` under which the engine keeps what a resource cost.
SPENT_KEY = "skyform.spent"
#: The key of ``MissionState.attributes`` holding what removed resources had cost (the ledger).
LEDGER_KEY = "skyform.spent"

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


def removed(private: Mapping[str, Any], address: str, at: float) -> list[dict[str, Any]]:
    """The ledger entries of a record being removed: each run it paid for, with its address."""
    return [{**run.to_json(), "address": address, "removed_at": at} for run in entries(private) if run.cost.amount]


def ledger(attributes: Mapping[str, Any]) -> list[tuple[str, Spent]]:
    """The mission's ledger: (address, run) for every run of a resource no longer recorded."""
    raw = attributes.get(LEDGER_KEY)
    if not isinstance(raw, list):
        return []
    return [(str(e.get("address", "")), Spent.from_json(e)) for e in raw if isinstance(e, Mapping) and "amount" in e]


def so_far(records: Iterable[Any], attributes: Mapping[str, Any] | None = None) -> SpentSoFar:
    """The spend of ``records`` (``ResourceState``s), in their order, and of the mission's
    ledger in ``attributes`` (what removed resources had cost)."""
    runs = [(rs.address, run) for rs in records for run in entries(rs.private)]
    runs += ledger(attributes or {})
    totals: dict[str, float] = {}
    estimated: list[str] = []
    for address, run in runs:
        if not run.cost.amount:
            continue
        totals[run.cost.currency] = totals.get(run.cost.currency, 0.0) + run.cost.amount
        if run.source == "estimate" and address not in estimated:
            estimated.append(address)
    return SpentSoFar(totals, estimated)
