"""CVAT: cvat-sdk's own calls give the same results against the simulator and a real server.

A real server is used with ``SKYFORM_FIDELITY_CVAT_URL`` and ``SKYFORM_FIDELITY_CVAT_TOKEN``
(a personal access token); every object a test makes is deleted again. No CVAT server can run
on these machines (it needs its Django stack, Redis, PostgreSQL, workers and OPA), so CI runs
the simulator case only and says why the real one is skipped.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from cvat_sdk import make_client
from cvat_sdk_objects import annotated_task
from fidelity_support import Server, real_server

from skyform.sandbox.clock import SimClock
from skyform.sandbox.faults import Faults
from skyform.sandbox.host import SimulatorHost
from skyform.sandbox.simulator import SimulatorOptions
from skyform_cvat.simulator import CvatSimulator


@pytest.fixture(scope="module", params=["simulator", "real"])
def cvat(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A CVAT server: the simulator, or the one of ``SKYFORM_FIDELITY_CVAT_URL``."""
    if request.param == "real":
        url, token = real_server("CVAT")
        if not token:
            pytest.skip("a real CVAT needs SKYFORM_FIDELITY_CVAT_TOKEN (a personal access token) as well")
        yield Server("real", url, token)
        return
    sim = CvatSimulator(
        SimulatorOptions(state_dir=tmp_path_factory.mktemp("cvat-sim"), clock=SimClock(20000.0), faults=Faults())
    )
    with SimulatorHost() as host:
        running = host.start(sim)
        yield Server("simulator", running.base_url, running.settings()["access_token"])


@pytest.fixture
def client(cvat: Server) -> Iterator[Any]:
    with make_client(cvat.base_url, access_token=cvat.token) as c:
        c.config.status_check_period = 0.01 if cvat.kind == "simulator" else 1
        yield c


@pytest.fixture
def made(client: Any) -> Iterator[list[Any]]:
    """Objects a test makes; deleted afterwards (a real server is left as it was)."""
    objects: list[Any] = []
    yield objects
    for obj in reversed(objects):
        try:
            obj.remove()
        except Exception:  # already gone with its project
            pass


def _task(client: Any, made: list[Any], tmp_path: Path, name: str) -> Any:
    task = annotated_task(client, tmp_path, name)
    made.append(task)
    return task


def test_server_answers_about_and_formats(client: Any) -> None:
    about = client.api_client.server_api.retrieve_about()[0]
    assert about.name == "Computer Vision Annotation Tool" and about.version
    formats = client.api_client.server_api.retrieve_annotation_formats()[0]
    exporters = {f.name for f in formats.exporters}
    assert {"CVAT for images 1.1", "COCO 1.0", "Datumaro 1.0", "YOLO 1.1"} <= exporters


def test_task_with_data_jobs_and_annotations(client: Any, made: list[Any], tmp_path: Path) -> None:
    task = _task(client, made, tmp_path, "fidelity-task")
    assert task.size == 4 and [f.name for f in task.get_frames_info()] == [f"frame_{i:02d}.png" for i in range(4)]
    assert [(j.start_frame, j.stop_frame) for j in sorted(task.get_jobs(), key=lambda j: j.start_frame)] == [
        (0, 1),
        (2, 3),
    ]
    (shape,) = task.get_annotations().shapes
    assert shape.frame == 3 and shape.points == [1.0, 2.0, 10.0, 20.0] and shape.attributes[0].value == "high"


def test_backup_round_trip(client: Any, made: list[Any], tmp_path: Path) -> None:
    task = _task(client, made, tmp_path, "fidelity-backup")
    path = task.download_backup(tmp_path / "backup.zip")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        meta = json.loads(archive.read("task.json"))
    assert {"task.json", "annotations.json"} <= names and any(n.startswith("data/") for n in names)
    assert meta["name"] == "fidelity-backup" and meta["version"] == "1.0"
    restored = client.tasks.create_from_backup(path)
    made.append(restored)
    assert restored.id != task.id and restored.size == 4 and len(restored.get_annotations().shapes) == 1


def test_exports_follow_the_documented_layouts(client: Any, made: list[Any], tmp_path: Path) -> None:
    task = _task(client, made, tmp_path, "fidelity-export")
    with zipfile.ZipFile(task.export_dataset("CVAT for images 1.1", tmp_path / "c.zip", include_images=False)) as z:
        root = ET.fromstring(z.read("annotations.xml"))
    assert root.findtext("meta/task/name") == "fidelity-export"
    assert root.find("meta/task/labels/label/attributes/attribute/name").text == "severity"
    box = root.find("image[@name='frame_03.png']/box")
    assert [(a.get("name"), a.text) for a in box.findall("attribute")] == [("severity", "high")]
    with zipfile.ZipFile(task.export_dataset("YOLO 1.1", tmp_path / "y.zip", include_images=False)) as z:
        assert {"obj.data", "obj.names", "train.txt"} <= set(z.namelist())
    with zipfile.ZipFile(task.export_dataset("COCO 1.0", tmp_path / "co.zip", include_images=False)) as z:
        coco = json.loads(z.read("annotations/instances_default.json"))
    assert coco["categories"][0]["name"] == "crack" and coco["annotations"][0]["bbox"] == [1.0, 2.0, 9.0, 18.0]
    with zipfile.ZipFile(task.export_dataset("Datumaro 1.0", tmp_path / "d.zip", include_images=False)) as z:
        items = json.loads(z.read("annotations/default.json"))["items"]
    assert [i["id"] for i in items] == [f"frame_{i:02d}" for i in range(4)]
