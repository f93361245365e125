"""The whole CVAT life cycle through cvat-sdk over real HTTP: project → task with images →
ground-truth job → assignment → annotation import → export, then delete."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from skyform.artifacts import Digest
from skyform.errors import NotFound


def test_full_lifecycle(sandbox, images) -> None:
    """Each kind creates what CVAT shows, and outputs feed the next kind as a mission would wire them."""
    projects = sandbox.ops("Project")
    project = projects.create(
        {
            "name": "A12 defects",
            "labels": [
                {"name": "crack", "color": "#ff0000"},
                {
                    "name": "rust",
                    "attributes": [{"name": "severity", "input_type": "select", "values": ["low", "high"]}],
                },
            ],
        }
    )
    assert project.status == "ready"
    assert set(project.outputs["label_ids"]) == {"crack", "rust"}

    tasks = sandbox.ops("Task")
    task = tasks.create(
        {
            "name": "A12 photos",
            "project_id": project.outputs["id"],
            "images": images,
            "segment_size": 2,
            "image_quality": 80,
        }
    )
    assert task.status == "ready", task
    assert task.outputs["size"] == 6
    assert [(j["start_frame"], j["stop_frame"]) for j in task.outputs["jobs"]] == [(0, 1), (2, 3), (4, 5)]

    jobs = sandbox.ops("Job")
    gt = jobs.create(
        {
            "type": "ground_truth",
            "task_id": task.outputs["id"],
            "frame_selection_method": "random_uniform",
            "frame_count": 3,
            "random_seed": 7,
            "assignee": "carol",
            "stage": "validation",
        }
    )
    assert gt.outputs["type"] == "ground_truth"
    assert gt.outputs["frame_count"] == 3
    assert (gt.outputs["assignee"], gt.outputs["stage"]) == ("carol", "validation")

    second = jobs.create({"task_id": task.outputs["id"], "index": 1, "assignee": "alice", "state": "in progress"})
    assert second.remote_id == str(task.outputs["jobs"][1]["id"])
    assert (second.outputs["assignee"], second.outputs["state"]) == ("alice", "in progress")

    moved = jobs.update(second, {**second.spec, "assignee": "bob", "stage": "acceptance", "state": "completed"})
    seen = jobs.read(moved)
    assert seen is not None and seen.observed["assignee"] == "bob"
    assert (seen.observed["stage"], seen.observed["state"]) == ("acceptance", "completed")

    annotation_file = sandbox.mission_dir / "labels.xml"
    annotation_file.write_text(
        "<annotations><version>1.1</version>"
        '<image id="0" name="frame_02.png" width="64" height="48">'
        '<box label="crack" xtl="1" ytl="2" xbr="30" ybr="40" occluded="0"/></image>'
        '<image id="1" name="frame_03.png" width="64" height="48">'
        '<polygon label="rust" points="1,1;10,1;10,10"/></image></annotations>'
    )
    imported = sandbox.ops("Annotations").create(
        {"task_id": task.outputs["id"], "format": "CVAT 1.1", "file": "labels.xml"}
    )
    assert imported.status == "ready", imported
    assert imported.outputs["shapes"] == 2

    exported = sandbox.ops("Export").create(
        {"task_id": task.outputs["id"], "format": "CVAT for images 1.1", "include_images": True}
    )
    assert exported.status == "ready", exported
    archive = Path(exported.outputs["path"])
    assert archive.parent.name == "export_under_test" and archive.is_file()
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == exported.outputs["sha256"]
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        xml = zf.read("annotations.xml").decode()
    assert "annotations.xml" in names and "images/frame_05.png" in names
    assert 'label="crack"' in xml and "frame_03.png" in xml

    assert sandbox.objects() == {"project": 1, "task": 1, "ground_truth_job": 1}
    jobs.delete(gt)
    assert jobs.read(gt) is None
    tasks.delete(task)
    assert tasks.read(task) is None
    projects.delete(project)
    assert projects.read(project) is None
    assert sandbox.objects() == {"project": 0, "task": 0, "ground_truth_job": 0}


def test_task_with_own_labels_and_one_job(sandbox, images) -> None:
    """Without project_id the task carries its labels; without segment_size it is one job."""
    task = sandbox.ops("Task").create({"name": "solo", "labels": [{"name": "car"}], "images": images[:3]})
    assert task.outputs["size"] == 3
    assert [(j["start_frame"], j["stop_frame"]) for j in task.outputs["jobs"]] == [(0, 2)]
    seen = sandbox.ops("Task").read(task)
    assert seen is not None and seen.observed["labels"] == [{"name": "car"}]


def test_export_without_images_of_a_job_in_coco(sandbox, images) -> None:
    """A job export holds that job's frames only; include_images false leaves the images out."""
    task = sandbox.ops("Task").create(
        {"name": "coco", "labels": [{"name": "car"}], "images": images, "segment_size": 3}
    )
    job_id = task.outputs["jobs"][1]["id"]
    exported = sandbox.ops("Export").create({"job_id": job_id, "format": "COCO 1.0"})
    with zipfile.ZipFile(exported.outputs["path"]) as zf:
        assert zf.namelist() == ["annotations/instances_default.json"]
        coco = zf.read("annotations/instances_default.json").decode()
    assert "frame_03.png" in coco and "frame_00.png" not in coco
    assert Path(exported.outputs["path"]).name == f"job-{job_id}-coco-1-0.zip"
    # the archive is in the artifact store under the digest the record keeps
    store = sandbox.ops("Export").context().artifacts
    assert exported.outputs["artifact"] == f"sha256:{exported.outputs['sha256']}"
    assert store.exists(Digest.parse(exported.outputs["artifact"]))
    store.verify(Digest.parse(exported.outputs["artifact"]))


def test_export_read_replans_when_the_download_is_gone(sandbox, images) -> None:
    """read returns None once the archive is deleted or altered, so the plan exports again."""
    task = sandbox.ops("Task").create({"name": "gone", "labels": [{"name": "car"}], "images": images[:2]})
    exports = sandbox.ops("Export")
    exported = exports.create({"task_id": task.outputs["id"], "format": "Datumaro 1.0"})
    assert exports.read(exported) is not None
    Path(exported.outputs["path"]).write_bytes(b"tampered")
    assert exports.read(exported) is None
    exports.delete(exported)
    assert not Path(exported.outputs["path"]).exists()


def test_read_of_a_deleted_task_is_none_and_delete_is_idempotent(sandbox, images) -> None:
    """A task removed in CVAT reads as gone; deleting it again is not an error."""
    tasks = sandbox.ops("Task")
    task = tasks.create({"name": "t", "labels": [{"name": "car"}], "images": images[:2]})
    tasks.delete(task)
    tasks.delete(task)
    assert tasks.read(task) is None
    with pytest.raises(NotFound):
        tasks.kind.update(task, {**task.spec, "name": "renamed"}, [], tasks.context())
