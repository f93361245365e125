"""Provenance read back from state: which operation made each product, from what, under which run.

Everything here comes from what skyform already recorded: the resource rows (outputs with
skyform's own digests), the event history (when each operation started and ended) and the
``provenance`` block of each ``apply_started`` event (plan digest, spec digest and commit,
skyform and provider versions, who approved). Nothing is asked of a service, so a catalog
or a PROV document can be written long after the run, from any machine that reads the state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import graph
from ..errors import StateError
from ..events import EventKind
from ..state.base import Event, MissionState, ResourceState, StateStore
from ..state.records import to_record
from .model import Dataset

if TYPE_CHECKING:
    from ..providers.base import Provider, ResourceKind

    Resolve = Callable[[str], "tuple[Provider, ResourceKind] | None"]


@dataclass(frozen=True)
class Run:
    """One ``apply``: the plan it carried out and the code that carried it out."""

    seq: int
    at: float
    plan_digest: str = ""
    spec_digest: str = ""
    spec_commit: str = ""
    skyform_version: str = ""
    providers: Mapping[str, str] = field(default_factory=dict)
    approved_by: str = ""
    host: str = ""


@dataclass(frozen=True)
class Operation:
    """The operation that brought a resource to its recorded state (a PROV activity)."""

    address: str
    started: float
    ended: float
    run: Run | None


@dataclass(frozen=True)
class Product:
    """One dataset of one resource, with where it came from."""

    id: str  # unique in the mission: "<resource>.<dataset key>"
    address: str
    type: str
    remote_id: str | None
    dataset: Dataset
    operation: Operation
    inputs: tuple[str, ...]  # ids of the products it was derived from
    provider_version: str = ""
    cost: float | None = None

    @property
    def provider(self) -> str:
        return self.type.split(".", 1)[0]


@dataclass(frozen=True)
class Lineage:
    """A mission's products in dependency order, and the mission row they belong to."""

    mission: MissionState
    products: tuple[Product, ...]

    def product(self, address: str) -> list[Product]:
        return [p for p in self.products if p.address == address]


def provenance_block(
    plan_digest: str, spec_digest: str, spec_commit: str, providers: Mapping[str, str], approved_by: str = ""
) -> dict[str, Any]:
    """What an ``apply_started`` event records so that every product can name its run."""
    from .. import __version__

    block: dict[str, Any] = {
        "plan_digest": plan_digest,
        "spec_digest": spec_digest,
        "skyform": __version__,
        "providers": dict(sorted(providers.items())),
    }
    if spec_commit:
        block["spec_commit"] = spec_commit
    if approved_by:
        block["approved_by"] = approved_by
    return block


def collect(store: StateStore, mission: str, resolve: Resolve) -> Lineage:
    """Read ``mission``'s products from ``store``; ``resolve`` is ``Registry.resolve_type``."""
    row = store.mission(mission)
    if row is None:
        raise StateError(f"no state recorded for mission {mission!r}", hint="run `skyform apply` first")
    records = store.resources(mission)
    events = store.events(mission)
    runs = _runs(events)
    operations = _operations(events, runs)
    order = graph.topological({a: list(r.depends_on) for a, r in records.items()}, list(records))
    made: dict[str, list[str]] = {}
    products: list[Product] = []
    for address in order:
        rs = records[address]
        datasets = _datasets(rs, resolve)
        inputs = _nearest_products(address, records, made)
        ids: list[str] = []
        for ds in datasets:
            pid = f"{address}.{ds.key}"
            ids.append(pid)
            products.append(
                Product(
                    id=pid,
                    address=address,
                    type=rs.type,
                    remote_id=rs.remote_id,
                    dataset=ds,
                    operation=operations.get(address) or Operation(address, rs.created_at, rs.updated_at, None),
                    inputs=() if ds.role == "input" else tuple(inputs),
                    provider_version=_provider_version(rs.type, resolve, operations.get(address)),
                    cost=_number(rs.outputs.get("actualCost", rs.outputs.get("estimatedCost"))),
                )
            )
        made[address] = ids
    return Lineage(mission=row, products=tuple(products))


def _datasets(rs: ResourceState, resolve: Resolve) -> list[Dataset]:
    found = resolve(rs.type)
    if rs.status != "ready" or found is None:  # not finished, or its provider is not installed
        return []
    return list(found[1].datasets(to_record(rs)))


def _nearest_products(address: str, records: Mapping[str, ResourceState], made: Mapping[str, list[str]]) -> list[str]:
    """Products of the closest ancestors that made any: a mesh derives from the orthophoto's
    task, which derives from the photos; a job that made nothing is looked through."""
    found: list[str] = []
    seen: set[str] = set()
    stack = list(reversed(records[address].depends_on))
    while stack:
        dep = stack.pop()
        if dep in seen or dep not in records:
            continue
        seen.add(dep)
        if made.get(dep):
            found += [p for p in made[dep] if p not in found]
        else:
            stack += list(reversed(records[dep].depends_on))
    return found


def _runs(events: Iterable[Event]) -> list[Run]:
    runs: list[Run] = []
    for e in events:
        if e.kind != EventKind.APPLY_STARTED:
            continue
        block = e.data.get("provenance") or {}
        runs.append(
            Run(
                seq=e.seq,
                at=e.at,
                plan_digest=str(block.get("plan_digest", "")),
                spec_digest=str(block.get("spec_digest", "")),
                spec_commit=str(block.get("spec_commit", "")),
                skyform_version=str(block.get("skyform", "")),
                providers=dict(block.get("providers") or {}),
                approved_by=str(block.get("approved_by", "")),
                host=str(e.data.get("host", "")),
            )
        )
    return runs


def _operations(events: Iterable[Event], runs: list[Run]) -> dict[str, Operation]:
    """The last operation of each resource that ended ``ready``: from its first transition after
    the previous ready state (the intent, an upload, polls) to that ready transition."""
    started: dict[str, float] = {}
    result: dict[str, Operation] = {}
    for e in events:
        if e.kind != EventKind.TRANSITION or e.address is None:
            continue
        if e.before in (None, "ready") or e.address not in started:  # a new operation begins
            started[e.address] = e.at
        if e.after == "ready":
            run = next((r for r in reversed(runs) if r.seq < e.seq), None)
            result[e.address] = Operation(e.address, started.pop(e.address), e.at, run)
    return result


def _provider_version(type_name: str, resolve: Resolve, operation: Operation | None) -> str:
    """The version recorded by the run that made the product; the installed one otherwise."""
    provider = type_name.split(".", 1)[0]
    if operation and operation.run and provider in operation.run.providers:
        return operation.run.providers[provider]
    found = resolve(type_name)
    return found[0].version if found else ""


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
