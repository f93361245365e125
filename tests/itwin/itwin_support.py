"""Helpers for the itwin provider tests: the sandbox handle, records, polling, a valid job spec."""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import skyform_itwin  # noqa: F401
except ImportError:  # the editable install predates the plugin package: use the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))

from skyform.providers import OperationContext, Record, Reporter, Result
from skyform_itwin.client import ItwinClient
from skyform_itwin.provider import PROVIDER
from skyform_itwin.simulator import ItwinSimulator

# a Full Medium job of 2 gigapixels takes ~2.4 simulated hours: ~0.25 s at this factor
CLOCK_FACTOR = 36000.0
INPUT_ID = "58e0c0ca-f730-4e5b-808d-1c8cacacb4d4"


@dataclass
class RecordingReporter(Reporter):
    """Keeps what an operation reported so tests can assert it."""

    warnings: list[str] = field(default_factory=list)
    progress_seen: list[tuple[float | None, str]] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def progress(self, fraction: float | None, message: str = "") -> None:
        self.progress_seen.append((fraction, message))


@dataclass
class Sandbox:
    """A running simulator and helpers to drive the provider against it."""

    sim: ItwinSimulator
    base_url: str
    settings: dict[str, Any]
    tmp: Path

    def client(self, **overrides: Any) -> ItwinClient:
        return PROVIDER.connect({**self.settings, **overrides})

    def ctx(
        self,
        client: ItwinClient | None = None,
        *,
        lifecycle: dict[str, Any] | None = None,
        intent_at: float | None = None,
        address: str = "resources.job",
    ) -> OperationContext:
        return OperationContext(
            client=client or self.client(),
            settings=self.settings,
            provider="itwin",
            address=address,
            mission="test",
            mission_dir=self.tmp,
            artifacts_dir=self.tmp / "artifacts",
            idempotency_key=str(uuid.uuid4()),
            intent_at=intent_at if intent_at is not None else time.time(),
            lifecycle=lifecycle or {},
            reporter=RecordingReporter(),
        )

    def faults(self, rules: list[dict[str, Any]]) -> None:
        from skyform.sandbox.faults import FaultRule

        self.sim.faults.replace(FaultRule.from_dict(r) for r in rules)


def record_for(result: Result, spec: dict[str, Any], ctx: OperationContext, address: str = "resources.job") -> Record:
    """The state record the engine would keep after ``result``."""
    return Record(
        address=address,
        type="itwin.Job",
        remote_id=result.remote_id,
        status=result.status,
        spec=spec,
        outputs=result.outputs,
        observed=result.observed or {},
        private=result.private,
        idempotency_key=ctx.idempotency_key,
        intent_at=ctx.intent_at,
    )


def poll_until_done(
    kind: Any, result: Result, spec: dict[str, Any], ctx: OperationContext, limit: float = 20.0
) -> Result:
    """Poll like the scheduler does (honouring poll_after) until the job leaves "running"."""
    deadline = time.monotonic() + limit
    while result.status == "running":
        assert time.monotonic() < deadline, "job did not finish in time"
        time.sleep(result.poll_after or 0.05)
        result = kind.poll(record_for(result, spec, ctx), ctx)
    return result


def job_spec(workspace_id: str, **over: Any) -> dict[str, Any]:
    """A valid Job Creation body (the documented example, adapted)."""
    spec: dict[str, Any] = {
        "type": "Full",
        "name": "Bridge A12 mesh",
        "workspaceId": workspace_id,
        "inputs": [{"id": INPUT_ID, "description": "Drone ImageCollection"}],
        "settings": {"quality": "Medium", "processingEngines": 5, "outputs": ["OBJ", "Cesium 3D Tiles"]},
        "costEstimationParameters": {"gigaPixels": 2.0, "megaPoints": 1.0, "meshQuality": "Medium"},
    }
    spec.update(over)
    return spec
