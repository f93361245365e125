"""The fidelity suites: the same test functions against a simulator and, when given, a real server.

Each service's fixture is parametrised ``simulator`` / ``real``. The real server comes from
``SKYFORM_FIDELITY_<SERVICE>_URL`` (its credential, if any, from
``SKYFORM_FIDELITY_<SERVICE>_TOKEN``); without it the ``real`` case is skipped and says why.
A test here may only assert what holds for both: a difference is a simulator defect (or, where
the real server is at fault, documented in ``docs/providers/<service>.md``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fidelity_support
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cvat"))  # cvat_sdk_objects
if importlib.util.find_spec("skyform_nodeodm") is None:  # an install that predates the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins"))

from fidelity_support import JPEG, Server, real_server

from skyform.sandbox.clock import SimClock
from skyform.sandbox.faults import Faults
from skyform.sandbox.host import SimulatorHost
from skyform.sandbox.simulator import SimulatorOptions
from skyform_nodeodm.simulator import (
    SANDBOX_TOKEN,
    NodeODMSimulator,
    catalog,
)


@pytest.fixture(scope="module", params=["simulator", "real"])
def nodeodm(request: pytest.FixtureRequest) -> Iterator[Server]:
    """A NodeODM 2.2.4: the simulator, or the real node of ``SKYFORM_FIDELITY_NODEODM_URL``.

    ``SKYFORM_FIDELITY_NODEODM_ODM_OPTIONS`` names the ``odmOptionsToJson.py`` dump the real
    node serves its options from (a node in ``--test`` mode: its ``tests/odm_options.json``).
    """
    if request.param == "real":
        url, token = real_server("NODEODM")
        dump_path = os.environ.get("SKYFORM_FIDELITY_NODEODM_ODM_OPTIONS")
        dump = json.loads(Path(dump_path).read_text(encoding="utf-8")) if dump_path else None
        yield Server("real", url, token, dump)
        return
    sim = NodeODMSimulator(SimulatorOptions(clock=SimClock(20000), faults=Faults.load(None)), token=SANDBOX_TOKEN)
    host = SimulatorHost()
    running = host.start(sim)
    try:
        yield Server("simulator", running.base_url, SANDBOX_TOKEN, catalog.odm_dump(), {"sim": sim})
    finally:
        host.stop()


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    """Two tiny images under ``tmp_path/photos``."""
    (tmp_path / "photos").mkdir()
    out = []
    for i in range(2):
        path = tmp_path / "photos" / f"DJI_{i:04d}.JPG"
        path.write_bytes(JPEG + bytes([i]) * 32)
        out.append(path)
    return out
