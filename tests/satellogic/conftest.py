"""Fixtures for the satellogic provider: a simulator on 127.0.0.1 and a connected client."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # satellogic_support
try:
    import skyform_satellogic  # noqa: F401
except ImportError:  # the editable install predates the package: use the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))

from satellogic_support import FAST, Sandbox

from skyform.providers import CheckContext
from skyform.sandbox.clock import SimClock
from skyform.sandbox.faults import Faults
from skyform.sandbox.host import SimulatorHost
from skyform.sandbox.simulator import SimulatorOptions

# OAuth tokens live 24 simulated hours, 0.4 real seconds at FAST: on a loaded machine one test
# outlives them and its calls fail at random. Tests get tokens of a simulated year (~160 real
# seconds at FAST); the tests of expiry pass token_ttl=TOKEN_TTL or expire them explicitly.
TEST_TOKEN_TTL = 365 * 86400.0


@pytest.fixture
def start_sandbox(tmp_path: Path) -> Iterator[Callable[..., Sandbox]]:
    """Start a simulator (keyword options: clock, faults, clients, contract_id, max_limit, token_ttl, settings)."""
    host = SimulatorHost()
    clients: list[Any] = []

    def start(
        clock: float = FAST,
        faults: list[dict[str, Any]] | None = None,
        settings: dict[str, Any] | None = None,
        token_ttl: float = TEST_TOKEN_TTL,
        **sim_kw: Any,
    ) -> Sandbox:
        options = SimulatorOptions(clock=SimClock(clock), faults=Faults.load(faults or []))
        from skyform_satellogic.provider import PROVIDER
        from skyform_satellogic.simulator.server import SatellogicSimulator

        sim = SatellogicSimulator(options, token_ttl=token_ttl, **sim_kw)
        running = host.start(sim)
        merged = {**running.settings(), **(settings or {})}
        client = PROVIDER.connect(merged)
        clients.append(client)
        return Sandbox(sim, merged, client, tmp_path)

    yield start
    for c in clients:
        c.close()
    host.stop()


@pytest.fixture
def sandbox(start_sandbox: Callable[..., Sandbox]) -> Sandbox:
    """A default simulator: one client (priorities 13..15, default 14), no geofence."""
    return start_sandbox()


@pytest.fixture
def check_ctx(tmp_path: Path) -> CheckContext:
    return CheckContext(today=date.today(), mission_dir=tmp_path, address="resources.sat")
