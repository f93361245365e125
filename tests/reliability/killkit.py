"""The distributed kill campaign: SIGKILL workers (and a coordinator) of a celery apply.

One *round* applies a fresh copy of the demo mission (every service: uploads to NodeODM and
CVAT, all.zip downloaded by a worker's poll) with ``--executor celery`` against a running
``skyform sandbox serve``, its operations on real ``skyform worker`` processes (RabbitMQ or
Redis, state in PostgreSQL). At seeded moments, aimed through the coordinator's own
``--json`` events (an operation dispatched, a create in flight, an upload, a poll, the
all.zip download), the worker running that resource is SIGKILLed with its pool (the
machine died) and a new worker started, and once per round the coordinator itself is
killed and the same apply started again. The broker redelivers the lost operation; the
coordinator's lease fencing accepts one result; the next attempt adopts what the lost one
made. The round then checks that every simulator holds exactly the objects one clean apply
makes, that ``plan --detailed-exitcode`` is 0, and that every object in the artifact store
hashes to its name (nothing partial visible).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import crash
import rkit

POSTGRES = os.environ.get("SKYFORM_TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Aim:
    """Where to kill: the first event matching ``phase`` (a :class:`crash.Phase`), and whom."""

    phase: crash.Phase
    target: str  # "worker" (the one running the event's resource) or "coordinator"


def _dispatched(e: crash.Event) -> bool:
    return e.get("event") == "dispatched" and e.get("step") == "create"


def _cvat_upload(e: crash.Event) -> bool:
    return e.get("event") == "progress" and e.get("address") == "annotate" and crash._message(e).startswith("upload")


WORKER_PHASES = [
    crash.Phase("dispatched", _dispatched, (0.0, 0.3)),
    next(p for p in crash.PHASES if p.name == "create-in-flight"),
    next(p for p in crash.PHASES if p.name == "upload"),
    crash.Phase("cvat-upload", _cvat_upload),  # the demo's CVAT task: its images going up
    next(p for p in crash.PHASES if p.name == "download"),
]
COORDINATOR_PHASES = [p for p in crash.PHASES if p.name in ("before-create", "upload", "after-a-state-write")]


@dataclass
class Workers:
    """``skyform worker`` processes on one queue, each in its own session (killed as a machine)."""

    root: Path
    broker: str
    queue: str
    env: dict[str, str]
    concurrency: int = 3
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    started: int = 0

    def start(self) -> str:
        name = f"w{self.started}-{self.queue}@campaign"
        log = self.root / f"worker{self.started}.log"
        self.started += 1
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*rkit.SKYFORM, "worker", "--broker", self.broker, "--queues", self.queue, "--name", name]
                + ["--concurrency", str(self.concurrency)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while "ready" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        self.procs[name] = proc
        return name

    def kill(self, name: str) -> bool:
        proc = self.procs.pop(name, None)
        if proc is None:
            return False
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)
        return True

    def stop(self) -> None:
        for name in list(self.procs):
            self.kill(name)


@dataclass
class Kill:
    target: str
    phase: str
    hit: bool
    address: str | None = None
    worker: str | None = None


@dataclass
class RoundResult:
    kills: list[Kill] = field(default_factory=list)
    converged: bool = False
    final_exit: int | None = None
    duplicated: int = 0
    lost: int = 0
    plan_exit: int | None = None
    corrupt_artifacts: int = 0
    artifacts: int = 0
    operator_actions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def campaign_env(base: dict[str, str], broker: str, schema: str) -> dict[str, str]:
    """The coordinator's and workers' environment: celery, the broker, a PostgreSQL schema."""
    sep = "&" if "?" in POSTGRES else "?"
    return {
        **base,
        "SKYFORM_EXECUTOR": "celery",
        "SKYFORM_BROKER": broker,
        "SKYFORM_STATE": f"{POSTGRES}{sep}schema={schema}",
        "SKYFORM_LEASE_TTL": "3",
        "SKYFORM_WORKER_HEARTBEAT": "1",
        "SKYFORM_WORKER_TIMEOUT": "90",
    }


def mission_for(root: Path, serve: rkit.Serve, queue: str) -> Path:
    """The demo against the served simulators, every provider's operations on ``queue``."""

    def route(doc: dict[str, Any]) -> None:
        doc.setdefault("settings", {})["queues"] = dict.fromkeys(doc["providers"], queue) | {"local": queue}

    return rkit.demo_mission(root, serve.providers(), edit=route)


def photogrammetry(root: Path, serve: rkit.Serve, queue: str | None) -> Path:
    """A small mission of the demo's photos and one NodeODM task (upload, then all.zip):
    the default-run case. ``queue`` None: no routing (a clean local apply)."""
    resources = {
        "photos": {"type": "local.Files", "spec": {"glob": "data/*.JPG"}},
        "reconstruct": {
            "type": "nodeodm.Task",
            "spec": {
                "name": "kill-case",
                "images": "${{ resources.photos.outputs.paths }}",
                "fingerprint": "${{ resources.photos.outputs.manifest_sha256 }}",
            },
        },
    }
    mission = rkit.mini_mission(root, {"nodeodm": serve.providers()["nodeodm"]}, resources, name="killcase")
    if queue is not None:
        doc = json.loads((mission / "mission.yaml").read_text())
        doc["settings"] = {"queues": {"local": queue, "nodeodm": queue}}
        (mission / "mission.yaml").write_text(json.dumps(doc, indent=1))
    return mission


class Coordinator:
    """One ``skyform apply --json`` (celery) whose events are read on a thread."""

    def __init__(self, mission: Path, env: dict[str, str]) -> None:
        self.proc = rkit.popen("apply", "--json", "--auto-approve", "--ack-irreversible", str(mission), env=env)
        self.lines: list[str] = []
        self.workers: dict[str, str] = {}  # address -> the worker running it now
        self._new = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._new:
                self.lines.append(line)
                self._new.notify_all()

    def events(self, timeout: float) -> Iterator[crash.Event]:
        """Events from now on (and those already read), until the apply ends or ``timeout``."""
        seen, deadline = 0, time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._new:
                if seen >= len(self.lines):
                    if not self._reader.is_alive():
                        return
                    self._new.wait(0.2)
                    continue
                line = self.lines[seen]
            seen += 1
            if line.startswith("{"):
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("event") == "dispatched":
                    self.workers[str(event.get("address"))] = str(event.get("worker"))
                yield event

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def wait(self, timeout: float) -> tuple[int, str, str]:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reader.join(timeout=10)
        err = self.proc.stderr.read() if self.proc.stderr else ""
        return int(self.proc.returncode), "".join(self.lines), err


def run_round(
    serve: rkit.Serve,
    root: Path,
    expected: dict[str, dict[str, int]],
    rng: random.Random,
    kills: int,
    base_env: dict[str, str],
    broker: str,
    *,
    coordinator_kill: bool = True,
    build: Callable[[Path, rkit.Serve, str], Path] | None = None,
    phases: list[crash.Phase] | None = None,
) -> RoundResult:
    """One round (see the module docstring); the round's schema and queue are dropped after."""
    serve.reset()
    tag = f"k{uuid.uuid4().hex[:8]}"
    env = campaign_env(base_env, broker, tag)
    mission = (build or mission_for)(root, serve, tag)
    workers = Workers(root, broker, tag, env)
    result = RoundResult()
    pool = phases or WORKER_PHASES
    aims = [Aim(pool[rng.randrange(len(pool))], "worker") for _ in range(kills)]
    if coordinator_kill and kills > 1:
        aims[rng.randrange(len(aims))] = Aim(COORDINATOR_PHASES[rng.randrange(len(COORDINATOR_PHASES))], "coordinator")
    pipeline = ["dispatched"] + [p.name for p in crash.PHASES] + ["cvat-upload"]
    aims.sort(key=lambda a: pipeline.index(a.phase.name))
    try:
        workers.start()
        workers.start()
        coordinator = Coordinator(mission, env)
        for aim in aims:
            kill = Kill(aim.target, aim.phase.name, False)
            wanted: str | None = None  # aimed at, its worker not known yet (the intent comes first)
            for event in coordinator.events(timeout=240):
                if wanted is None:
                    if not aim.phase.hit(event) or rng.random() >= 0.7:
                        continue
                    wanted = str(event.get("address"))
                    time.sleep(rng.uniform(*aim.phase.delay))
                    if aim.target == "coordinator":
                        coordinator.kill()
                        kill.hit, kill.address = True, wanted
                        coordinator = Coordinator(mission, env)  # "the same apply, elsewhere"
                        break
                worker = coordinator.workers.get(wanted)
                if worker is None:
                    continue  # dispatched soon (or it runs in the coordinator: the next aim then)
                if worker not in workers.procs:
                    wanted = None  # its worker is gone already: aim again
                    continue
                kill.hit, kill.address, kill.worker = workers.kill(worker), wanted, worker
                workers.start()  # a replacement: the broker hands it the lost operation
                break
            result.kills.append(kill)
        code, out, err = coordinator.wait(timeout=400)
        for _ in range(3):  # apply again, as the docs say, resolving AdoptErrors as an operator would
            if code == 0:
                break
            result.notes.append(f"apply exit {code}: {err[-800:]}")
            for address, error in crash.blocked_addresses(out).items():
                result.operator_actions.append(crash.operator_resolves(serve, mission, address, error, env))
            code, out, err = Coordinator(mission, env).wait(timeout=400)
        result.final_exit = code
        if code != 0:
            result.notes.append(err[-1500:])
        objects = serve.objects()
        for provider, kinds in crash.set_union(expected, objects):
            for kind in kinds:
                want = expected.get(provider, {}).get(kind, 0)
                got = objects.get(provider, {}).get(kind, 0)
                result.duplicated += max(0, got - want)
                result.lost += max(0, want - got)
        plan = rkit.run("plan", "--detailed-exitcode", str(mission), env=env, timeout=120)
        result.plan_exit = plan.returncode
        if plan.returncode != 0:
            result.notes.append(plan.stdout[-1500:] + plan.stderr[-500:])
        result.artifacts, result.corrupt_artifacts = verify_store(mission / ".skyform" / "store")
    finally:
        workers.stop()
        drop(env["SKYFORM_STATE"], mission, broker, tag)
    result.converged = (
        result.final_exit == 0
        and result.plan_exit == 0
        and not result.duplicated
        and not result.lost
        and not result.corrupt_artifacts
    )
    return result


def verify_store(store: Path) -> tuple[int, int]:
    """(objects, corrupt) of a ``file://`` artifact store: each object's bytes hash to its name."""
    objects = [p for p in (store / "sha256").glob("*/*") if p.is_file()] if store.is_dir() else []
    corrupt = sum(hashlib.sha256(p.read_bytes()).hexdigest() != p.name for p in objects)
    return len(objects), corrupt


def drop(state_url: str, mission: Path, broker: str, queue: str) -> None:
    """Drop the round's schema and queue (the broker and database are shared)."""
    from kombu import Connection

    from skyform.state import open_store
    from skyform.state.plugin import skyform_state_backends

    try:
        with Connection(broker) as conn:
            conn.default_channel.queue_delete(queue)
    except Exception:  # never declared
        pass
    store = open_store(state_url, mission, skyform_state_backends())
    try:
        store.drop_schema()
    finally:
        store.close()
