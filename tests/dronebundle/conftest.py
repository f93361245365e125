"""Fixtures for the dronebundle tests: a simulator on 127.0.0.1, clients and contexts."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
try:  # the editable install may predate the plugin package
    import skyform_dronebundle  # noqa: F401
except ImportError:  # pragma: no cover - depends on how the venv was installed
    sys.path.insert(0, str(ROOT / "plugins"))

from skyform.providers import OperationContext, Record, Result  # noqa: E402
from skyform.sandbox.clock import SimClock  # noqa: E402
from skyform.sandbox.host import Running, SimulatorHost  # noqa: E402
from skyform.sandbox.simulator import SimulatorOptions  # noqa: E402
from skyform_dronebundle.client import DroneBundleClient  # noqa: E402
from skyform_dronebundle.provider import PROVIDER, connect  # noqa: E402
from skyform_dronebundle.simulator.server import DroneBundleSimulator  # noqa: E402


def today() -> date:
    return datetime.now(UTC).date()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Running]:
    """One simulator per test module, with the documented limits."""
    with SimulatorHost() as host:
        yield host.start(DroneBundleSimulator(SimulatorOptions(clock=SimClock(1000))))


@pytest.fixture
def client(sandbox: Running) -> Iterator[DroneBundleClient]:
    c = connect(sandbox.settings())
    yield c
    c.close()


@pytest.fixture
def project_id(client: DroneBundleClient) -> str:
    return client.create_project({"name": f"site {uuid.uuid4().hex[:6]}"})


@pytest.fixture
def make_ctx(client: DroneBundleClient, tmp_path: Path) -> Callable[..., OperationContext]:
    def make(address: str = "flight", key: str | None = None, c: Any = None) -> OperationContext:
        return OperationContext(
            client=c or client,
            settings={},
            provider="dronebundle",
            address=address,
            mission="bridge-a12",
            mission_dir=tmp_path,
            artifacts_dir=tmp_path / "artifacts",
            idempotency_key=key or str(uuid.uuid4()),
            intent_at=time.time(),
        )

    return make


def _record_of(result: Result, spec: dict[str, Any], ctx: OperationContext, type_: str = "dronebundle.Job") -> Record:
    return Record(
        address=ctx.address,
        type=type_,
        remote_id=result.remote_id,
        status=result.status,
        spec=dict(spec),
        outputs=result.outputs,
        observed=result.observed or {},
        private=result.private,
        idempotency_key=ctx.idempotency_key,
        intent_at=ctx.intent_at,
    )


@pytest.fixture
def record_of() -> Callable[..., Record]:
    """Builds the state record the engine would keep after an operation's Result."""
    return _record_of


@pytest.fixture
def job_kind() -> Any:
    return PROVIDER.kind("Job")


@pytest.fixture
def project_kind() -> Any:
    return PROVIDER.kind("Project")
