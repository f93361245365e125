"""Backups and dataset exports through cvat-sdk's own calls, in the layouts a real CVAT writes.

``task.download_backup`` gives a zip of ``task.json``, ``annotations.json`` and ``data/``;
``tasks.create_from_backup`` restores it as a new task with its frames, jobs and annotations;
a project backup is ``project.json`` with one ``task_<n>/`` folder per task. Each export
format follows its documentation page (CVAT for images 1.1 with ``<meta>`` and attributes,
YOLO 1.1 with ``train.txt``, COCO 1.0, Datumaro 1.0).
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from cvat_sdk import make_client
from cvat_sdk.api_client import models
from cvat_sdk_objects import ATTRIBUTE, annotated_task


@pytest.fixture
def client(sandbox):
    with make_client(sandbox.base_url, access_token=sandbox.settings["access_token"]) as c:
        c.config.status_check_period = 0.01
        yield c


def test_task_backup_has_the_real_layout_and_restores_with_frames_and_annotations(client, sandbox, tmp_path):
    task = annotated_task(client, sandbox.mission_dir, "bridge")
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
    project = client.projects.create(
        models.ProjectWriteRequest(
            name="a12", labels=[models.PatchedLabelRequest(name="crack", attributes=[ATTRIBUTE])]
        )
    )
    first = annotated_task(client, sandbox.mission_dir, "north", project.id)
    annotated_task(client, sandbox.mission_dir, "south", project.id)
    path = project.download_backup(tmp_path / "a12.zip")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {
            "project.json",
            "task_0/task.json",
            "task_1/task.json",
            "task_0/annotations.json",
            "task_0/data/frame_00.png",
        } <= names
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
    with pytest.raises(Exception, match=re.escape("task.json was not found")):
        client.tasks.create_from_backup(bad)
    assert Path(bad).is_file()


def _export(task_or_project, fmt: str, path: Path, images: bool = True) -> zipfile.ZipFile:
    return zipfile.ZipFile(task_or_project.export_dataset(fmt, path, include_images=images))


def test_cvat_for_images_xml_has_meta_labels_segments_and_attributes(client, sandbox, tmp_path):
    task = annotated_task(client, sandbox.mission_dir, "bridge")
    with _export(task, "CVAT for images 1.1", tmp_path / "cvat.zip") as archive:
        assert {"annotations.xml", "images/frame_00.png", "images/frame_03.png"} <= set(archive.namelist())
        text = archive.read("annotations.xml")
    assert text.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(text)
    assert [child.tag for child in root][:2] == ["version", "meta"]
    meta = root.find("meta/task")
    assert meta.findtext("id") == str(task.id) and meta.findtext("name") == "bridge" and meta.findtext("size") == "4"
    assert [(s.findtext("start"), s.findtext("stop")) for s in meta.findall("segments/segment")] == [
        ("0", "1"),
        ("2", "3"),
    ]
    assert meta.findtext("owner/username") == "admin"
    attribute = meta.find("labels/label/attributes/attribute")
    assert meta.findtext("labels/label/name") == "crack" and attribute.findtext("name") == "severity"
    assert attribute.findtext("values") == "low\nhigh" and attribute.findtext("input_type") == "select"
    assert root.findtext("meta/dumped")
    box = root.find("image[@name='frame_03.png']/box")
    assert box.get("label") == "crack" and box.get("xtl") == "1.00" and box.get("ybr") == "20.00"
    assert [(a.get("name"), a.text) for a in box.findall("attribute")] == [("severity", "high")]


def test_project_xml_lists_its_tasks_and_each_image_says_its_task(client, sandbox, tmp_path):
    project = client.projects.create(
        models.ProjectWriteRequest(
            name="a12", labels=[models.PatchedLabelRequest(name="crack", attributes=[ATTRIBUTE])]
        )
    )
    north = annotated_task(client, sandbox.mission_dir, "north", project.id)
    annotated_task(client, sandbox.mission_dir, "south", project.id)
    with _export(project, "CVAT for images 1.1", tmp_path / "p.zip", images=False) as archive:
        root = ET.fromstring(archive.read("annotations.xml"))
    assert root.findtext("meta/project/name") == "a12"
    assert [t.findtext("name") for t in root.findall("meta/project/tasks/task")] == ["north", "south"]
    images = root.findall("image")
    assert len(images) == 8 and images[0].get("task_id") == str(north.id) and images[0].get("subset") == "default"
    assert len({i.get("id") for i in images}) == 8


def test_yolo_has_train_txt_beside_obj_data_and_names(client, sandbox, tmp_path):
    task = annotated_task(client, sandbox.mission_dir, "bridge")
    with _export(task, "YOLO 1.1", tmp_path / "yolo.zip") as archive:
        names = set(archive.namelist())
        assert {
            "obj.data",
            "obj.names",
            "train.txt",
            "obj_train_data/frame_03.txt",
            "obj_train_data/frame_03.png",
        } <= names
        assert archive.read("train.txt").decode().splitlines() == [
            f"data/obj_train_data/frame_{i:02d}.png" for i in range(4)
        ]
        data = dict(line.split(" = ") for line in archive.read("obj.data").decode().splitlines())
        assert data == {"classes": "1", "train": "data/train.txt", "names": "data/obj.names", "backup": "backup/"}
        assert archive.read("obj.names") == b"crack\n"
        cls, cx, _cy, _w, h = archive.read("obj_train_data/frame_03.txt").decode().split()
    assert (
        cls == "0" and float(cx) == pytest.approx(5.5 / 64, abs=1e-6) and float(h) == pytest.approx(18 / 48, abs=1e-6)
    )


def test_coco_and_datumaro_follow_their_documented_layouts(client, sandbox, tmp_path):
    task = annotated_task(client, sandbox.mission_dir, "bridge")
    with _export(task, "COCO 1.0", tmp_path / "coco.zip") as archive:
        assert {"annotations/instances_default.json", "images/frame_03.png"} <= set(archive.namelist())
        coco = json.loads(archive.read("annotations/instances_default.json"))
    assert set(coco) == {"licenses", "info", "categories", "images", "annotations"}
    assert coco["categories"] == [{"id": 1, "name": "crack", "supercategory": ""}]
    assert coco["images"][3]["file_name"] == "frame_03.png" and coco["images"][3]["id"] == 4
    (ann,) = coco["annotations"]
    assert ann["image_id"] == 4 and ann["category_id"] == 1 and ann["bbox"] == [1.0, 2.0, 9.0, 18.0]
    assert ann["attributes"] == {"occluded": False, "severity": "high"}
    with _export(task, "Datumaro 1.0", tmp_path / "dm.zip") as archive:
        assert {"annotations/default.json", "images/default/frame_03.png"} <= set(archive.namelist())
        dm = json.loads(archive.read("annotations/default.json"))
    assert dm["categories"]["label"]["labels"] == [{"name": "crack", "parent": "", "attributes": ["severity"]}]
    item = dm["items"][3]
    assert item["id"] == "frame_03" and item["attr"] == {"frame": 3}
    assert item["image"] == {"path": "frame_03.png", "size": [48, 64]}
    assert item["annotations"][0]["bbox"] == [1.0, 2.0, 9.0, 18.0]
    assert item["annotations"][0]["attributes"] == {"occluded": False, "severity": "high"}


def test_cvat_cli_backs_up_and_restores_a_task(client, sandbox, tmp_path):
    """cvat-cli 2.80's `task backup` and `task create-from-backup` (they answered 404 before)."""
    import os
    import subprocess
    import sys

    cli = Path(sys.executable).with_name("cvat-cli")
    if not cli.exists():
        pytest.skip("cvat-cli is not installed in this environment (pip install -e '.[test]')")
    task = annotated_task(client, sandbox.mission_dir, "cli")
    host, port = sandbox.base_url.rsplit(":", 1)
    env = {
        **os.environ,
        "CVAT_ACCESS_TOKEN": sandbox.settings["access_token"],
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path),
    }
    base = [str(cli), "--server-host", host, "--server-port", port, "task"]
    backup = tmp_path / "cli-backup.zip"
    done = subprocess.run(
        [*base, "backup", "--completion_verification_period", "0.01", str(task.id), str(backup)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert {"task.json", "annotations.json"} <= set(zipfile.ZipFile(backup).namelist())
    done = subprocess.run(
        [*base, "create-from-backup", "--completion_verification_period", "0.01", str(backup)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    restored = [t for t in client.tasks.list() if t.name == "cli" and t.id != task.id]
    assert len(restored) == 1 and restored[0].size == 4
    assert sandbox.settings["access_token"] not in done.stdout + done.stderr
