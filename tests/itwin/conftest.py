"""Fixtures for the itwin provider tests: a simulator on 127.0.0.1 and the provider's kinds."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for itwin_support (importlib mode)

from itwin_support import CLOCK_FACTOR, PROVIDER, ItwinSimulator, Sandbox

from skyform.sandbox.clock import SimClock
from skyform.sandbox.faults import Faults
from skyform.sandbox.host import SimulatorHost
from skyform.sandbox.simulator import SimulatorOptions


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    options = SimulatorOptions(state_dir=tmp_path / "sim", clock=SimClock(CLOCK_FACTOR), faults=Faults())
    sim = ItwinSimulator(options)
    with SimulatorHost() as host:
        running = host.start(sim)
        yield Sandbox(sim, running.base_url, running.settings(), tmp_path)


@pytest.fixture
def job_kind() -> Any:
    return PROVIDER.kind("Job")


@pytest.fixture
def workspace_kind() -> Any:
    return PROVIDER.kind("Workspace")
