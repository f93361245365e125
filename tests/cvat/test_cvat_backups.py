"""Task and project backups through cvat-sdk's own calls, in the layout a real CVAT writes.

``task.download_backup`` gives a zip of ``task.json``, ``annotations.json`` and ``data/``;
``tasks.create_from_backup`` restores it as a new task with its frames, jobs and annotations;
a project backup is ``project.json`` with one ``task_<n>/`` folder per task.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from cvat_sdk import make_client
from cvat_sdk.api_client import models
from cvat_sdk.core.proxies.tasks import ResourceType
from PIL import Image

ATTRIBUTE = {"name": "severity", "mutable": False, "input_type": "select", "default_value": "low",
             "values": ["low", "high"]}


@pytest.fixture
def client(sandbox):
    with make_client(sandbox.base_url, access_token=sandbox.settings["access_token"]) as c:
        c.config.status_check_period = 0.01
        yield c


def _images(directory: Path, count: int) -> list[Path]:
    directory.mkdir(parents=True)
    paths = [directory / f"frame_{i:02d}.png" for i in range(count)]
    for i, path in enumerate(paths):
        Image.new("RGB", (64, 48), (40 * i, 90, 160)).save(path)
    return paths


def _annotated_task(client, sandbox, name: str, project_id: int | None = None):
    paths = _images(sandbox.mission_dir / name, 4)
    owner = {"project_id": project_id} if project_id else {
        "labels": [models.PatchedLabelRequest(name="crack", attributes=[ATTRIBUTE])]}
    spec = models.TaskWriteRequest(name=name, segment_size=2, **owner)
    task = client.tasks.create_from_data(spec, resource_type=ResourceType.LOCAL, resources=paths)
    label = task.get_labels()[0]
    task.set_annotations(models.LabeledDataRequest(shapes=[models.LabeledShapeRequest(
        type="rectangle", frame=3, label_id=label.id, points=[1, 2, 10, 20],
        attributes=[models.AttributeValRequest(spec_id=label.attributes[0].id, value="high")])]))
    return task


def test_task_backup_has_the_real_layout_and_restores_with_frames_and_annotations(client, sandbox, tmp_path):
    task = _annotated_task(client, sandbox, "bridge")
    path = task.download_backup(tmp_path / "bridge.zip")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {"task.json", "annotations.json", "data/manifest.jsonl"} <= names
        assert {f"data/frame_{i:02d}.png" for i in range(4)} <= names
        meta = json.loads(archive.read("task.json"))
        per_job = json.loads(archive.read("annotations.json"))
    assert meta["version"] == "1.0" and meta["name"] == "bridge" and len(meta["jobs"]) == 2
    assert meta["labels"][0]["name"] == "crack" and meta["labels"][0]["attributes"][0]["name"] == "severity"
    assert per_job[1]["shapes"][0]["label"] == "crack"  # by name, as backup.py writes it
    assert per_job[1]["shapes"][0]["attributes"] == [{"name": "severity", "value": "high"}]

    restored = client.tasks.create_from_backup(path)
    assert restored.id != task.id and restored.name == "bridge" and restored.size == 4
    assert [f.name for f in restored.get_frames_info()] == [f"frame_{i:02d}.png" for i in range(4)]
    assert len(restored.get_jobs()) == 2
    shapes = restored.get_annotations().shapes
    label = restored.get_labels()[0]
    assert [(s.frame, s.label_id, s.points) for s in shapes] == [(3, label.id, [1.0, 2.0, 10.0, 20.0])]
    assert shapes[0].attributes[0].spec_id == label.attributes[0].id and shapes[0].attributes[0].value == "high"
    assert restored.get_frame(3).read() == (sandbox.mission_dir / "bridge" / "frame_03.png").read_bytes()


def test_project_backup_holds_each_task_and_restores_them(client, sandbox, tmp_path):
    project = client.projects.create(models.ProjectWriteRequest(
        name="a12", labels=[models.PatchedLabelRequest(name="crack", attributes=[ATTRIBUTE])]))
    first = _annotated_task(client, sandbox, "north", project.id)
    _annotated_task(client, sandbox, "south", project.id)
    path = project.download_backup(tmp_path / "a12.zip")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {"project.json", "task_0/task.json", "task_1/task.json", "task_0/annotations.json",
                "task_0/data/frame_00.png"} <= names
        assert json.loads(archive.read("project.json"))["labels"][0]["name"] == "crack"
        assert json.loads(archive.read("task_0/task.json"))["name"] == first.name
    restored = client.projects.create_from_backup(path)
    assert restored.id != project.id and restored.name == "a12"
    tasks = sorted(restored.get_tasks(), key=lambda t: t.id)
    assert [t.name for t in tasks] == ["north", "south"] and all(t.size == 4 for t in tasks)
    assert len(tasks[0].get_annotations().shapes) == 1


def test_a_damaged_backup_fails_its_request_with_a_reason(client, tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("readme.txt", "not a backup")
    with pytest.raises(Exception, match="task.json was not found"):
        client.tasks.create_from_backup(bad)
    assert Path(bad).is_file()
