"""Helpers for the nodeodm tests: operation contexts, records, polling, time travel."""

from __future__ import annotations

import time
import uuid as uuidlib
from pathlib import Path
from typing import Any

from skyform.providers import OperationContext, Record, Reporter, Result
from skyform_nodeodm.provider import PROVIDER, connect
from skyform_nodeodm.simulator import NodeODMSimulator

KIND = PROVIDER.kinds[0]
# a JPEG's first bytes: the node does not look inside, a few bytes keep uploads fast
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)


class RecordingReporter(Reporter):
    """Keeps what an operation reported, for assertions."""

    def __init__(self) -> None:
        self.progress_calls: list[tuple[float | None, str]] = []
        self.warnings: list[str] = []

    def progress(self, fraction: float | None, message: str = "") -> None:
        self.progress_calls.append((fraction, message))

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def images(mission: Path) -> list[str]:
    return sorted(str(p) for p in (mission / "photos").glob("*.JPG"))


def context(
    settings: dict[str, Any], mission: Path, *, key: str | None = None, address: str = "reconstruct"
) -> OperationContext:
    """An OperationContext like the engine builds, with a live client for ``settings``."""
    return OperationContext(
        client=connect(settings),
        settings=settings,
        provider="nodeodm",
        address=address,
        mission="bridge-a12",
        mission_dir=mission,
        artifacts_dir=mission / ".skyform" / "artifacts" / address,
        idempotency_key=key or str(uuidlib.uuid4()),
        intent_at=time.time(),
        reporter=RecordingReporter(),
    )


def record(result: Result, spec: dict[str, Any], ctx: OperationContext) -> Record:
    """The state record the engine would keep after ``result``."""
    return Record(
        address=ctx.address,
        type="nodeodm.Task",
        remote_id=result.remote_id,
        status=result.status,
        spec=dict(spec),
        outputs=dict(result.outputs),
        observed=dict(result.observed or {}),
        private=dict(result.private),
        idempotency_key=ctx.idempotency_key,
        intent_at=ctx.intent_at,
    )


def poll_until_done(rec: Record, spec: dict[str, Any], ctx: OperationContext, *, limit: float = 20.0) -> Result:
    """Poll like the engine's timer does, until the job is no longer running."""
    deadline = time.time() + limit
    while True:
        result = KIND.poll(rec, ctx)
        if result.status != "running":
            return result
        if time.time() > deadline:
            raise AssertionError(f"task still running after {limit}s: {result.message}")
        rec = record(result, spec, ctx)
        time.sleep(0.02)


def shift(sim: NodeODMSimulator, seconds: float) -> None:
    """Make ``seconds`` of real time pass for the simulator by moving its timestamps back."""
    with sim.lock:
        for task in sim.data["tasks"].values():
            for key in ("init_end", "queued", "started", "finished"):
                if task.get(key):
                    task[key] -= seconds
