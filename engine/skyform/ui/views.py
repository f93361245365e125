"""What each page shows, as plain data: the graph, a node, the run timeline, the missions list.

Every value read from a spec, a record or an event goes through :func:`safe`: the CLI's
display rule (:func:`skyform.cli.output.shown`: a secret is ``(sensitive)``, an unknown
``(known after apply)``) and then the redactor, so the page shows exactly what
``skyform state show`` would and never a registered secret.

Two marks per node, as Argo CD keeps them apart: **health** is what the service said last
(the recorded status: ready, running, failed...), **sync** is whether the record matches
the mission (from the plan shown beside it: ``in sync`` for a no-op, ``out of sync`` for
any change, ``not applied`` when nothing is recorded).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .. import graph, redact
from ..cli.output import shown
from ..events import EventKind
from ..plan.model import Action, Plan
from ..providers.hooks import Hooks
from ..spec.mission import Mission
from ..state.base import Event, MissionState, ResourceState

#: what a recorded status says of a node's health
HEALTH = {
    "ready": "healthy",
    "running": "progressing",
    "creating": "progressing",
    "updating": "progressing",
    "deleting": "progressing",
    "failed": "degraded",
}
#: the timeline's phase for each status a node passes through
PHASES = {
    "creating": "submitting",
    "updating": "submitting",
    "deleting": "deleting",
    "running": "waiting on the service",
}
#: every phase a timeline bar may have, in the order a run passes through them
TIMELINE_PHASES = ("queued", "submitting", "uploading", "waiting on the service", "downloading", "deleting")
FINISHED = frozenset({"ready", "failed", "deleted", "forgotten"})


def safe(value: Any) -> Any:
    """``value`` as a page may show it: the CLI's display rule, then the redactor."""
    return redact.redact_data(shown(value))


#: nodes on one page of the graph: a mission of 10,000 resources is drawn 1,000 at a time
#: (the server sends only those; the browser never holds the rest)
GRAPH_PAGE = 1000


@dataclass(frozen=True)
class Layout:
    """The DAG's nodes in order with their layer (longest path from a root) and edges."""

    order: list[str]
    types: dict[str, str]
    layer: dict[str, int]
    deps: dict[str, list[str]]
    _pages: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    @cached_property
    def drawing(self) -> list[str]:
        """The nodes as the page draws them: layer by layer (ties in spec order), so a page
        of the graph is a band of whole layers from left to right."""
        index = {rid: i for i, rid in enumerate(self.order)}
        return sorted(self.order, key=lambda rid: (self.layer[rid], index[rid]))

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.order) // GRAPH_PAGE))

    def page(self, number: int) -> dict[str, Any]:
        """Page ``number`` (from 1) of the graph: its nodes in drawing order, the edges
        between them, and how many edges come in from other pages; kept once computed."""
        cached = self._pages.get(number)
        if cached is not None:
            return cached
        members = self.drawing[(number - 1) * GRAPH_PAGE : number * GRAPH_PAGE]
        index = {rid: i for i, rid in enumerate(members)}
        types: dict[str, int] = {}
        nodes = [[rid, types.setdefault(self.types.get(rid, ""), len(types)), self.layer[rid]] for rid in members]
        edges, elsewhere = [], 0
        for rid in members:
            for d in self.deps[rid]:
                if d in index:
                    edges.append([index[d], index[rid]])
                else:
                    elsewhere += 1
        shape = {"types": list(types), "nodes": nodes, "edges": edges}
        out = {
            "shape": shape,
            "json": json.dumps(shape, separators=(",", ":")),
            "members": members,
            "from_elsewhere": elsewhere,
        }
        self._pages[number] = out
        return out

    @cached_property
    def shape(self) -> dict[str, Any]:
        """What does not change while the mission does not: the graph page's node rows
        ``[id, type index, layer]`` in drawing order, the type names, the edges as pairs of
        node indexes. Computed once per layout; a page load adds only the marks."""
        index = {rid: i for i, rid in enumerate(self.order)}
        types: dict[str, int] = {}
        nodes = [[rid, types.setdefault(self.types.get(rid, ""), len(types)), self.layer[rid]] for rid in self.order]
        edges = [[index[d], index[rid]] for rid in self.order for d in self.deps[rid]]
        return {"types": list(types), "nodes": nodes, "edges": edges}

    @cached_property
    def shape_json(self) -> str:
        """:attr:`shape` as the page embeds it (encoded once: it is the bulk of a large page)."""
        return json.dumps(self.shape, separators=(",", ":"))


def layout(mission: Mission | None, records: Mapping[str, ResourceState]) -> Layout:
    """The mission's graph (or, known only from state, the recorded ``depends_on``); a
    recorded resource the mission no longer declares is kept, as the plan will delete it."""
    if mission is not None:
        deps = graph.dependencies(mission)
        types = {rid: r.type for rid, r in mission.resources.items()}
    else:
        deps, types = {}, {}
    for address, rs in records.items():
        if address not in deps:
            deps[address] = [d for d in rs.depends_on if d in records or d in deps]
            types[address] = rs.type
    order = graph.topological(deps, list(deps))
    layer: dict[str, int] = {}
    for rid in order:
        layer[rid] = 1 + max((layer[d] for d in deps[rid]), default=-1)
    return Layout(order, types, layer, deps)


def sync_of(address: str, recorded: Mapping[str, object], actions: Mapping[str, Action] | None) -> str:
    if address not in recorded:
        return "not applied"
    action = actions.get(address) if actions is not None else None
    if action is None:
        return "unknown"
    return "in sync" if not action.changes_anything and not action.drift else "out of sync"


SYNCS = ("in sync", "out of sync", "not applied", "unknown")


def graph_marks(
    lay: Layout,
    statuses: Mapping[str, tuple[str, str]],
    plan: Plan | None,
    last_seq: int,
    members: list[str] | None = None,
) -> dict[str, Any]:
    """Each node's marks in the layout's order (or of ``members``, one page): its status and
    its sync (an index into ``syncs``); ``health`` maps a status to its health mark (the
    page applies it live)."""
    actions = {a.address: a for a in plan.actions} if plan is not None else None
    sync = {name: i for i, name in enumerate(SYNCS)}
    shown = lay.order if members is None else members
    return {
        "status": [statuses[rid][1] if rid in statuses else "planned" for rid in shown],
        "sync": [sync[sync_of(rid, statuses, actions)] for rid in shown],
        "syncs": SYNCS,
        "health": {**HEALTH, "planned": "missing"},
        "seq": last_seq,
    }


def status_counts(lay: Layout, statuses: Mapping[str, tuple[str, str]]) -> dict[str, int]:
    """How many nodes of the whole graph are in each status (the legend of every page).

    Every recorded resource is a node of the layout (one the mission dropped is kept), so
    the nodes without a record are the planned ones: one pass over the records, not a
    lookup per node (a third of a 10,000-node page's render time otherwise)."""
    counts = Counter(status for _, status in statuses.values())
    missing = len(lay.order) - len(statuses)
    if missing > 0:
        counts["planned"] += missing
    return dict(counts)


def node_view(
    address: str, mission: Mission | None, record: ResourceState | None, events: Iterable[Event]
) -> dict[str, Any]:
    """A node's page: its spec (as recorded, else as written), outputs, history, remote id."""
    history = list(events)
    declared = mission.resources.get(address) if mission is not None else None
    spec = record.spec if record is not None else (declared.spec if declared is not None else {})
    return {
        "address": address,
        "type": record.type if record else (declared.type if declared else ""),
        "status": record.status if record else "planned",
        "remote_id": safe(record.remote_id) if record else None,
        "error": safe(record.error) if record and record.error else None,
        "spec": safe(spec),
        "spec_source": "recorded" if record is not None else "as written (not applied yet)",
        "outputs": safe(record.outputs) if record else {},
        "depends_on": list(record.depends_on) if record else list(declared.depends_on if declared else ()),
        "history": [event_json(e) for e in history],
        "phase": current_phase(history) if record is not None and record.status not in FINISHED else None,
    }


def current_phase(events: Iterable[Event]) -> str | None:
    """What a node in progress spends its time on now: the phase its provider reported
    since its last status (uploading, downloading), else its status's phase."""
    phase: str | None = None
    for e in events:
        if e.kind == EventKind.TRANSITION:
            phase = PHASES.get(e.after or "", e.after)
        elif e.kind == EventKind.PHASE:
            phase = str(e.data.get("phase") or "") or phase
    return phase


def console_link(
    hooks: Hooks, mission: Mission | None, record: ResourceState | None, sandbox: bool
) -> dict[str, Any] | None:
    """Where the recorded object is on its service (``skyform_console_url``), redacted; the
    hook sees the provider's settings only as a page may show them."""
    if record is None:
        return None
    provider = record.type.partition(".")[0]
    settings = (mission.providers.get(provider) if mission is not None else None) or {}
    shown_settings = safe(settings)
    url = hooks.console_url(
        type=record.type,
        remote_id=record.remote_id,
        outputs=dict(record.outputs),
        settings=shown_settings if isinstance(shown_settings, dict) else {},
    )
    if url is None:
        return None
    return {"url": redact.redact(url), "sandbox": sandbox}


def event_json(event: Event) -> dict[str, Any]:
    """An event as the page and its live stream carry it (redacted)."""
    out: dict[str, Any] = {"seq": event.seq, "kind": event.kind, "at": event.at}
    if event.address:
        out["address"] = event.address
    if event.before or event.after:
        out["before"], out["after"] = event.before, event.after
    if event.data:
        out["data"] = safe(event.data)
    return out


def timeline_view(events: list[Event], now: float | None = None) -> dict[str, Any]:
    """The last run, per node: queued (from the run's start to its first step), then one bar
    per recorded status until the node finished (submitting, waiting on the service...),
    split where the provider reported a phase of its call (uploading, downloading)."""
    start = max(
        (i for i, e in enumerate(events) if e.kind in (EventKind.APPLY_STARTED, EventKind.DESTROY_STARTED)),
        default=None,
    )
    if start is None:
        return {"rows": [], "start": None, "end": None, "running": False}
    run = events[start:]
    t0 = run[0].at
    finished = next((e for e in run if e.kind in (EventKind.APPLY_FINISHED, EventKind.DESTROY_FINISHED)), None)
    # a run still going is drawn up to now: its open bars grow while the page follows it
    end = finished.at if finished else max(max(e.at for e in run), now if now is not None else time.time())
    rows: dict[str, dict[str, Any]] = {}
    for e in run:
        if e.kind == EventKind.PHASE and e.address in rows and rows[e.address]["open"] is not None:
            # a running call said what it now does (uploading, downloading): the bar it was
            # in ends here and the phase's bar starts, until the next phase or status
            row = rows[e.address]
            phase, since = row["open"]
            row["bars"].append({"phase": phase, "from": since, "to": e.at})
            row["open"] = (str(e.data.get("phase") or "working"), e.at)
            continue
        if e.kind != EventKind.TRANSITION or not e.address:
            continue
        row = rows.setdefault(e.address, {"address": e.address, "bars": [], "open": None})
        if not row["bars"] and row["open"] is None and e.at > t0:
            row["bars"].append({"phase": "queued", "from": t0, "to": e.at})
        if row["open"] is not None:
            phase, since = row["open"]
            row["bars"].append({"phase": phase, "from": since, "to": e.at})
            row["open"] = None
        after = e.after or ""
        if after not in FINISHED:
            row["open"] = (PHASES.get(after, after), e.at)
        else:
            row["result"] = after
    for row in rows.values():
        if row["open"] is not None:  # still going: the bar grows until now
            phase, since = row.pop("open")
            row["bars"].append({"phase": phase, "from": since, "to": end, "open": True})
        else:
            row.pop("open")
    return {"rows": list(rows.values()), "start": t0, "end": end, "running": finished is None}


def missions_row(
    name: str, row: MissionState | None, records: Mapping[str, ResourceState], events: list[Event], plan: Plan | None
) -> dict[str, Any]:
    """One line of the missions list: last apply, status counts, drift and cost."""
    last = next((e for e in reversed(events) if e.kind == EventKind.APPLY_FINISHED), None)
    running = any(e.kind == EventKind.APPLY_STARTED for e in events[-1:]) or any(
        r.status in HEALTH and HEALTH[r.status] == "progressing" for r in records.values()
    )
    counts: dict[str, int] = {}
    for r in records.values():
        counts[r.status] = counts.get(r.status, 0) + 1
    cost = plan.cost().totals if plan is not None else recorded_cost(records)
    return {
        "name": name,
        "last_apply": last.at if last else None,
        "last_ok": bool(last.data.get("ok")) if last else None,
        "status": "running" if running else ("failed" if counts.get("failed") else ("applied" if records else "new")),
        "counts": counts,
        "sync": mission_sync(plan),
        "drift": sum(1 for a in plan.actions if a.drift) if plan is not None else None,
        "changes": sum(1 for a in plan.actions if a.changes_anything) if plan is not None else None,
        "cost": cost,
        "serial": row.serial if row else 0,
    }


def mission_sync(plan: Plan | None) -> str:
    """A mission's sync, as Argo CD says it: ``in sync`` when its plan changes nothing and
    found no drift, ``out of sync`` otherwise, ``unknown`` without a plan."""
    if plan is None:
        return "unknown"
    changed = any(a.changes_anything or a.drift for a in plan.actions)
    return "out of sync" if changed else "in sync"


def recorded_cost(records: Mapping[str, ResourceState]) -> dict[str, float]:
    """What the services reported a finished resource cost (``actualCost``, else the
    ``estimatedCost`` it recorded), in the provider's unit: the catalog's rule."""
    total = 0.0
    for r in records.values():
        value = r.outputs.get("actualCost", r.outputs.get("estimatedCost"))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            total += float(value)
    return {"recorded": round(total, 4)} if total else {}


def outputs_view(row: MissionState | None) -> dict[str, Any]:
    return safe(row.outputs) if row is not None else {}
