"""What a simulated task looks like at a moment: its captures and its status.

Nothing runs in the background: a task stores its real creation time and everything is
derived from the simulated seconds elapsed since (``tau``). The sandbox does not wait for
the calendar: a task's window is replayed from its (effective) start at creation time, so a
window starting next month behaves like one starting now; its length is kept.

Captures go ``queued`` (planned) -> ``processing`` (acquired) -> ``published``. A one-off POI
task plans ``max_simultaneous_captures`` captures and completes when ``max_captures`` are
published (captures already acquired by then are still delivered, as documented). A
recurring task plans a batch every ``expected_age`` and completes when the window ends. An
AOI task is split into strips (fragments) acquired on different days.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LEAD = 2 * 3600.0  # simulated seconds from window start to the first acquisition
SPACING = 1 * 3600.0  # between simultaneous captures of one batch
PROCESSING = 90 * 60.0  # acquisition to published
FRAGMENT_DAY = 24 * 3600.0  # AOI strips are acquired on different days
FRAGMENT_KM2 = 100.0  # one strip covers about this much
MAX_FRAGMENTS = 6
SATELLITES = tuple(f"newsat{n}" for n in range(13, 31))
NAMESPACE = uuid.UUID("6f1c7a5e-2b1d-4c8e-9a55-3d2f7b8e1c40")


@dataclass
class Planned:
    """One planned capture: when it is acquired (simulated seconds after window start)."""

    capture_id: str
    at: float
    satellite_name: str
    fragment_id: str | None
    needed: bool  # counts towards completion (not an extra simultaneous capture)


def _plan(task: Mapping[str, Any], window: float) -> list[Planned]:
    tid = task["task_id"]
    most = int(task.get("max_captures") or 1)
    simultaneous = int(task.get("max_simultaneous_captures") or most)

    def capture(key: str, at: float, fragment: str | None, needed: bool) -> Planned:
        cid = str(uuid.uuid5(NAMESPACE, f"{tid}/{key}"))
        sat = SATELLITES[int(cid[:8], 16) % len(SATELLITES)]
        return Planned(cid, at, sat, fragment, needed)

    period = task.get("_period")
    if period:  # recurring POI: a batch each period until the window ends
        out: list[Planned] = []
        for k in range(math.ceil(window / period)):
            for i in range(simultaneous):
                at = k * period + min(LEAD + i * SPACING, period * (i + 1) / (simultaneous + 1))
                if at < window:
                    out.append(capture(f"{k}/{i}", at, None, i < most))
        return out
    fragments = task.get("_fragments") or [None]
    out = [
        capture(f"{j}/{i}", LEAD + j * FRAGMENT_DAY + i * SPACING, frag, i < most)
        for j, frag in enumerate(fragments)
        for i in range(simultaneous)
    ]
    last = max(p.at for p in out) + PROCESSING
    if last > window:  # squeeze the plan into a short window, keeping its order
        for p in out:
            p.at *= window / last
    return out


def _state(at: float, tau: float, processing: float) -> str:
    if tau < at:
        return "queued"
    return "processing" if tau < at + processing else "published"


def view(task: Mapping[str, Any], tau: float) -> tuple[str, list[dict[str, Any]]]:
    """The task's status and its visible captures ``tau`` simulated seconds after creation."""
    window = float(task["_window"])
    plan = sorted(_plan(task, window), key=lambda p: (p.at, p.capture_id))
    processing = min(PROCESSING, window / 4)
    fate = task.get("_fate", "ok")
    if fate == "stuck":
        tau = min(tau, plan[0].at - 1) if plan else tau
    status = "received"
    if task.get("_period"):
        plan = [p for p in plan if tau >= (p.at // task["_period"]) * task["_period"]]
        if tau >= window:
            status = "completed"
    else:
        done = _completion(plan, processing, fate)
        if done is not None and tau >= done:
            status = "completed"
            plan = [p for p in plan if p.at <= done]  # unacquired extras are dropped
    failed_at = plan[0].at + processing / 2 if fate == "fail" and plan else None
    if failed_at is not None and tau >= failed_at:
        status, tau = "failed", failed_at
    captures = []
    for p in plan:
        state = _state(p.at, tau, processing)
        if status == "failed" and state == "processing":
            state = "failed"
        item = {"capture_id": p.capture_id, "start": p.at, "satellite_name": p.satellite_name, "status": state}
        if p.fragment_id is not None:
            item["fragment_id"] = p.fragment_id
        captures.append(item)
    return status, captures


def _completion(plan: list[Planned], processing: float, fate: str) -> float | None:
    """When enough captures of every fragment are published (None: never)."""
    if fate != "ok":
        return None
    by_fragment: dict[str | None, list[float]] = {}
    for p in plan:
        if p.needed:
            by_fragment.setdefault(p.fragment_id, []).append(p.at + processing)
    return max(max(times) for times in by_fragment.values()) if by_fragment else None


def fragment_ids(task_id: int, area_km2: float) -> list[str]:
    """Strip ids for an AOI of this size (one per ~100 km², at most six)."""
    count = max(1, min(MAX_FRAGMENTS, math.ceil(area_km2 / FRAGMENT_KM2)))
    return [str(uuid.uuid5(NAMESPACE, f"{task_id}/fragment/{j}")) for j in range(count)]
