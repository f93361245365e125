"""Fixtures for the cvat provider tests: the CVAT simulator on 127.0.0.1, images, operations."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cvat_sdk_objects (importlib mode)

from skyform.sandbox.clock import SimClock
from skyform.sandbox.faults import Faults
from skyform.sandbox.host import SimulatorHost
from skyform.sandbox.simulator import SimulatorOptions
from skyform.testing import Operations
from skyform_cvat.provider import PROVIDER
from skyform_cvat.simulator import CvatSimulator

CLOCK_FACTOR = 20000.0


@dataclass
class Sandbox:
    """A running CVAT simulator and the mission directory the tests write into."""

    simulator: CvatSimulator
    base_url: str
    settings: dict[str, Any]
    mission_dir: Path

    def ops(self, kind: str, settings: dict[str, Any] | None = None) -> Operations:
        """The kind's operations, connected as the engine would connect them."""
        return Operations(
            PROVIDER, kind, settings or self.settings, self.mission_dir, poll_timeout=20.0, poll_interval=0.01
        )

    def objects(self) -> dict[str, int]:
        with self.simulator.lock:
            return self.simulator.objects()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    options = SimulatorOptions(state_dir=tmp_path / "sim", clock=SimClock(CLOCK_FACTOR), faults=Faults())
    simulator = CvatSimulator(options)
    with SimulatorHost() as host:
        running = host.start(simulator)
        yield Sandbox(simulator, running.base_url, running.settings(), tmp_path / "mission")


def write_images(directory: Path, count: int, size: tuple[int, int] = (64, 48)) -> list[str]:
    """``count`` small PNG images named frame_00.png ...; returns their paths relative to the mission."""
    directory.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(count):
        path = directory / f"frame_{i:02d}.png"
        Image.new("RGB", size, (40 * i % 255, 90, 160)).save(path)
        names.append(str(path.relative_to(directory.parent)))
    return names


@pytest.fixture
def images(sandbox: Sandbox) -> list[str]:
    """Six images in the mission directory (images/frame_00.png ...)."""
    return write_images(sandbox.mission_dir / "images", 6)


@pytest.fixture
def kinds() -> dict[str, Any]:
    return {k.name: k for k in PROVIDER.kinds}
