"""Shared helpers of the satellogic tests: valid specs, a sandbox handle, a poll loop."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from skyform.providers import OperationContext, Record, Result
from skyform_satellogic.simulator.server import SatellogicSimulator

FAST = 200_000.0  # simulated seconds per real second: a one-off POI task completes in ~0.1 s


def iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


def window(days_from_now: float = 1, length_days: float = 10) -> tuple[str, str]:
    """A capture window in the future, as ISO strings with an offset."""
    start = datetime.now(UTC) + timedelta(days=days_from_now)
    return iso(start), iso(start + timedelta(days=length_days))


def poi_spec(**over: Any) -> dict[str, Any]:
    """A valid one-off POI task spec (the documented example, moved to the future)."""
    start, end = window()
    spec: dict[str, Any] = {
        "task_name": "Disney Land",
        "project_name": "Theme parks",
        "product": 169,
        "target": {"type": "Point", "coordinates": [72.905273, 19.023001]},
        "start": start,
        "end": end,
    }
    spec.update(over)
    return {k: v for k, v in spec.items() if v is not None}


SQUARE = {"type": "Polygon", "coordinates": [[[2.0, 48.0], [2.2, 48.0], [2.2, 48.2], [2.0, 48.2], [2.0, 48.0]]]}


def aoi_spec(**over: Any) -> dict[str, Any]:
    """A valid AOI task spec over ~330 km² near Paris."""
    return poi_spec(**{"task_name": "Paris strip", "product": 178, "target": SQUARE, **over})


@dataclass
class Sandbox:
    """A running simulator and a provider client connected to it."""

    sim: SatellogicSimulator
    settings: dict[str, Any]
    client: Any
    tmp: Path

    def ctx(self, *, intent_at: float | None = None, key: str | None = None) -> OperationContext:
        return OperationContext(
            client=self.client,
            settings=self.settings,
            provider="satellogic",
            address="resources.sat",
            mission="test",
            mission_dir=self.tmp,
            artifacts_dir=self.tmp / "artifacts",
            idempotency_key=key or str(uuid.uuid4()),
            intent_at=time.time() if intent_at is None else intent_at,
        )

    def record(self, spec: dict[str, Any], result: Result, ctx: OperationContext | None = None) -> Record:
        return Record(
            address="resources.sat",
            type="satellogic.Task",
            remote_id=result.remote_id,
            status=result.status,
            spec=spec,
            outputs=result.outputs,
            observed=result.observed or {},
            private=result.private,
            idempotency_key=ctx.idempotency_key if ctx else "k",
            intent_at=ctx.intent_at if ctx else 0.0,
        )


def settle(kind: Any, record: Record, ctx: OperationContext, timeout: float = 5.0) -> Result:
    """Poll until ready or failed (the engine's loop, in miniature)."""
    deadline = time.monotonic() + timeout
    while True:
        result = kind.poll(record, ctx)
        if result.status != "running" or time.monotonic() > deadline:
            return result
        time.sleep(0.02)
