"""Fixtures for the nodeodm provider: simulated nodes on 127.0.0.1 and a mission directory."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # nodeodm_support
if importlib.util.find_spec("skyform_nodeodm") is None:  # an install that predates the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))

from nodeodm_support import JPEG

from skyform.sandbox.clock import SimClock
from skyform.sandbox.faults import Faults
from skyform.sandbox.host import Running, SimulatorHost
from skyform.sandbox.simulator import SimulatorOptions
from skyform_nodeodm.simulator import NodeODMSimulator


@pytest.fixture
def start_node() -> Callable[..., tuple[NodeODMSimulator, Running]]:
    """Start a simulated node (a fresh host entry per call: several nodes are possible)."""
    hosts: list[SimulatorHost] = []

    def start(*, factor: float = 20000, faults: list[dict[str, Any]] | None = None, **kw: Any):
        sim = NodeODMSimulator(SimulatorOptions(clock=SimClock(factor), faults=Faults.load(faults)), **kw)
        h = SimulatorHost()
        hosts.append(h)
        return sim, h.start(sim)

    yield start
    for h in hosts:
        h.stop()


@pytest.fixture
def node(start_node):
    """One simulated node with the sandbox token and a fast clock."""
    return start_node()


@pytest.fixture
def mission(tmp_path: Path) -> Path:
    """A mission directory with three tiny images and the extra files a task may carry."""
    (tmp_path / "photos").mkdir()
    for i in range(3):
        (tmp_path / "photos" / f"DJI_{i:04d}.JPG").write_bytes(JPEG + bytes([i]) * 32)
    (tmp_path / "gcp.txt").write_text("EPSG:32632\n500000 4649776 10 100 200 DJI_0000.JPG\n")
    (tmp_path / "positions.txt").write_text("EPSG:4326\nDJI_0000.JPG 12.5 55.6 40\n")
    return tmp_path
