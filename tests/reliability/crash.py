"""The crash campaign: SIGKILL an apply at seeded moments of every phase, resume, count.

One *round* is a fresh copy of the demo mission against a running `skyform sandbox serve`
(reset first): ``kills`` applies are killed, each at a moment aimed through the apply's
own ``--json`` events (a create intent just written, a create request in flight, an
upload, a poll, a download), then one apply runs to the end. The round then checks that
every simulator holds exactly the objects one clean apply makes, that `plan
--detailed-exitcode` is 0 and that the history records every resource ready.

Create requests are slowed by a latency fault on the simulators (``CREATE_LATENCY``), so a
kill aimed "in flight" lands after the request reached the service and before its answer
- the service creates the object, the client never learns its id: adoption's case.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rkit

CREATE_LATENCY = 0.4
# POSTs that create something; uploads and token requests stay fast
LATENCY_RULES = [
    {
        "fault": "latency",
        "delay": CREATE_LATENCY,
        "match": r"^POST /(tasking/tasks|v1/projects|v1/jobs|task/new/init|contextcapture/workspaces|"
        r"contextcapture/jobs|api/projects|api/tasks)/?$",
    }
]

Event = dict[str, Any]


@dataclass(frozen=True)
class Phase:
    """Where to kill: the first event matching ``hit``, then a random delay in ``delay``."""

    name: str
    hit: Callable[[Event], bool]
    delay: tuple[float, float] = (0.0, 0.0)


def _creating(e: Event) -> bool:
    return e.get("event") == "transition" and e.get("after") == "creating"


def _message(e: Event) -> str:
    return str(e.get("message") or "")


PHASES = [  # in the order an apply of the demo passes them
    Phase("random-moment", lambda e: e.get("event") == "plan", (0.0, 3.0)),
    Phase("before-create", _creating),
    Phase("create-in-flight", _creating, (0.05, CREATE_LATENCY - 0.05)),
    Phase("upload", lambda e: e.get("event") == "progress" and _message(e).startswith(("uploaded", "upload:"))),
    Phase(
        "after-a-state-write",
        lambda e: e.get("event") == "transition" and e.get("after") in ("ready", "running"),
        (0.0, 0.05),
    ),
    Phase(
        "polling",
        lambda e: (
            e.get("event") == "progress" and e.get("address") in ("baseline", "mesh") and "MiB" not in _message(e)
        ),
        (0.0, 0.3),
    ),
    Phase(
        "download", lambda e: e.get("event") == "progress" and ("all.zip" in _message(e) or "download" in _message(e))
    ),
]


@dataclass
class Kill:
    phase: str
    hit: bool  # the aimed event was seen (else the apply ended first)
    at: float  # seconds after start
    address: str | None = None
    blocked: dict[str, str] = field(default_factory=dict)  # AdoptErrors the apply ended with


@dataclass
class RoundResult:
    kills: list[Kill] = field(default_factory=list)
    converged: bool = False
    final_exit: int | None = None
    objects: dict[str, dict[str, int]] = field(default_factory=dict)
    duplicated: int = 0
    lost: int = 0
    plan_exit: int | None = None
    history_complete: bool = False
    operator_actions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def kill_at(mission: Path, phase: Phase, rng: random.Random, env: dict[str, str], timeout: float = 90) -> Kill:
    """Start an apply, kill it (SIGKILL, its whole session) at ``phase``; return what happened."""
    started = time.time()
    proc = rkit.popen("apply", "--json", "--auto-approve", "--ack-irreversible", str(mission), env=env)
    hit, address = False, None
    blocked: dict[str, str] = {}
    try:
        for event in rkit.events(proc, timeout=timeout):
            blocked.update(blocked_addresses(json.dumps(event)))
            if phase.hit(event) and rng.random() < 0.7:  # not always the first matching event
                hit, address = True, event.get("address")
                time.sleep(rng.uniform(*phase.delay))
                break
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
    return Kill(phase.name, hit, round(time.time() - started, 3), address, blocked)


def expected_objects(serve: rkit.Serve, root: Path, env: dict[str, str]) -> dict[str, dict[str, int]]:
    """What one uninterrupted apply of the demo leaves in the simulators."""
    serve.reset()
    mission = rkit.demo_mission(root / "clean", serve.providers())
    done = rkit.run("apply", "--auto-approve", "--ack-irreversible", str(mission), env=env, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return serve.objects()


def run_round(
    serve: rkit.Serve,
    root: Path,
    expected: dict[str, dict[str, int]],
    rng: random.Random,
    kills: int,
    env: dict[str, str],
    phases: list[Phase] | None = None,
) -> RoundResult:
    """One round: fresh mission, ``kills`` killed applies, one apply to the end, then checks."""
    serve.reset()
    mission = rkit.demo_mission(root, serve.providers())
    result = RoundResult()
    pool = list(phases or PHASES)
    # a seeded choice of phases, in pipeline order (a create comes before its upload, a poll
    # before a download), so each killed apply still has the aimed phase ahead of it
    order = sorted((pool[rng.randrange(len(pool))] for _ in range(kills)), key=pool.index)
    for phase in order:
        for _attempt in range(3):
            kill = kill_at(mission, phase, rng, env)
            if kill.hit or not kill.blocked:
                break
            # the apply ended on an AdoptError before the aimed moment: resolve it as an
            # operator would, then aim again
            for address, error in kill.blocked.items():
                result.operator_actions.append(operator_resolves(serve, mission, address, error, env))
        result.kills.append(kill)
    final = rkit.run("apply", "--json", "--auto-approve", "--ack-irreversible", str(mission), env=env, timeout=240)
    for _ in range(3):  # the documented way out of an AdoptError: look, then import or state rm
        if final.returncode == 0:
            break
        blocked = blocked_addresses(final.stdout)
        if not blocked:
            break
        for address, error in blocked.items():
            result.operator_actions.append(operator_resolves(serve, mission, address, error, env))
        final = rkit.run("apply", "--json", "--auto-approve", "--ack-irreversible", str(mission), env=env, timeout=240)
    result.final_exit = final.returncode
    if final.returncode != 0:
        result.notes.append(final.stderr[-1500:])
    result.objects = serve.objects()
    for provider, kinds in set_union(expected, result.objects):
        for kind in kinds:
            want = expected.get(provider, {}).get(kind, 0)
            got = result.objects.get(provider, {}).get(kind, 0)
            result.duplicated += max(0, got - want)
            result.lost += max(0, want - got)
    plan = rkit.run("plan", "--detailed-exitcode", str(mission), env=env, timeout=120)
    result.plan_exit = plan.returncode
    if plan.returncode != 0:
        result.notes.append(plan.stdout[-1500:] + plan.stderr[-500:])
    history = rkit.run("history", "--json", "--limit", "100000", str(mission), env=env)
    result.history_complete = history_complete(history.stdout, expected_addresses(mission))
    result.converged = result.final_exit == 0 and result.plan_exit == 0 and not result.duplicated and not result.lost
    return result


def set_union(a: dict[str, dict[str, int]], b: dict[str, dict[str, int]]):
    for provider in sorted(set(a) | set(b)):
        yield provider, sorted(set(a.get(provider, {})) | set(b.get(provider, {})))


def expected_addresses(mission: Path) -> set[str]:
    return set(json.loads((mission / "mission.yaml").read_text())["resources"])


def history_complete(text: str, addresses: set[str]) -> bool:
    """Every resource reached ready in the recorded history, and the last apply finished."""
    ready: set[str] = set()
    finished = False
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        e = json.loads(line)
        kind = e.get("kind") or e.get("event") or e.get("type")
        data = e.get("data") or {}
        if kind in ("apply_finished",) and data.get("ok", True):
            finished = True
        after = data.get("after") or e.get("after")
        address = e.get("address") or data.get("address")
        if after == "ready" and address:
            ready.add(address)
    return finished and addresses <= ready


ADOPT_MARKERS = ("possible orphan", "was interrupted while creating", "cannot tell", "created in workspace")
# (provider state collection, how to recognise the demo's object, import id) per blocked address:
# the "dashboard" an operator would look at is the simulator's own state.
DASHBOARD: dict[str, tuple[str, str, Callable[[dict[str, Any]], bool], Callable[[dict[str, Any]], str]]] = {
    "site": ("dronebundle", "projects", lambda o: o.get("name") == "Bridge A12", lambda o: str(o["id"])),
    "flight": (
        "dronebundle",
        "jobs",
        lambda o: o.get("name") == "A12 deck and piers, visual",
        lambda o: f"{o.get('project_id')}/{o['id']}",
    ),
    "workspace": ("itwin", "workspaces", lambda o: o.get("name") == "bridge-a12", lambda o: str(o["id"])),
    "mesh": ("itwin", "jobs", lambda o: o.get("name") == "Bridge A12 mesh", lambda o: str(o["id"])),
}


def blocked_addresses(stdout: str) -> dict[str, str]:
    """Resources an apply failed because adoption could not tell (AdoptError), with the message."""
    out: dict[str, str] = {}
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        e = json.loads(line)
        error = str(e.get("error") or (e.get("data") or {}).get("error") or "")
        if e.get("event") == "transition" and e.get("after") == "failed" and any(m in error for m in ADOPT_MARKERS):
            out[e["address"]] = error
    return out


def operator_resolves(serve: rkit.Serve, mission: Path, address: str, error: str, env: dict[str, str]) -> str:
    """Do what the message tells an operator: find the object on the dashboard, import it
    (exactly one found) or `state rm` (none found: the create never happened)."""
    provider, collection, match, remote_id = DASHBOARD[address]
    data = json.loads((serve.dir / f"{provider}.json").read_text())
    objects = data.get(collection, {})
    found = [
        o for o in (objects.values() if isinstance(objects, dict) else objects) if isinstance(o, dict) and match(o)
    ]
    # state rm first: `import` refuses an address holding an intent (ENGINE_BUGS R7); the
    # mission is named explicitly: `state rm ADDR` alone is a usage error (R6)
    forgot = rkit.run("state", "rm", str(mission), address, env=env)
    if len(found) == 1:
        done = rkit.run("import", str(mission), address, remote_id(found[0]), env=env)
        return f"import {address}: exit {forgot.returncode}/{done.returncode}"
    done = forgot
    return f"state rm {address} ({len(found)} found): exit {done.returncode}"
