"""cvat.Annotations: imports into tasks and jobs, formats, modes, failures, drift and adopt."""

from __future__ import annotations

import json
import time
import uuid

import pytest

LABELS = [{"name": "car"}, {"name": "truck"}]


def _cvat_xml(*boxes: tuple[str, str]) -> str:
    images = "".join(
        f'<image id="{i}" name="{name}" width="64" height="48">'
        f'<box label="{label}" xtl="1" ytl="1" xbr="9" ybr="9"/></image>'
        for i, (name, label) in enumerate(boxes)
    )
    return f"<annotations><version>1.1</version>{images}</annotations>"


@pytest.fixture
def task(sandbox, images) -> dict:
    return (
        sandbox.ops("Task").create({"name": "imports", "labels": LABELS, "images": images, "segment_size": 3}).outputs
    )


def test_import_into_a_job_touches_only_its_frames(sandbox, task) -> None:
    """A job import replaces that job's frames; the task sees the shapes at their task frames."""
    (sandbox.mission_dir / "job.xml").write_text(_cvat_xml(("frame_04.png", "truck"), ("frame_05.png", "car")))
    job_id = task["jobs"][1]["id"]
    record = sandbox.ops("Annotations").create({"job_id": job_id, "format": "CVAT 1.1", "file": "job.xml"})
    assert record.status == "ready", record
    assert (record.outputs["target"], record.outputs["target_id"], record.outputs["shapes"]) == ("job", job_id, 2)
    shapes = sandbox.ops("Task").client.sdk.tasks.retrieve(task["id"]).get_annotations().shapes
    assert sorted(s.frame for s in shapes) == [4, 5]


def test_a_frame_outside_the_job_fails_the_import(sandbox, task) -> None:
    """An annotation for a frame outside the job fails the request with CVAT's message."""
    (sandbox.mission_dir / "out.xml").write_text(_cvat_xml(("frame_00.png", "car")))
    record = sandbox.ops("Annotations").create(
        {"job_id": task["jobs"][1]["id"], "format": "CVAT 1.1", "file": "out.xml"}
    )
    assert record.status == "failed"


def test_coco_import_and_append_mode(sandbox, task) -> None:
    """COCO 1.0 files import too; append keeps what the task had, replace (default) does not."""
    coco = {
        "images": [{"id": 1, "file_name": "frame_01.png", "width": 64, "height": 48}],
        "categories": [{"id": 7, "name": "car"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [2, 2, 5, 5]}],
    }
    (sandbox.mission_dir / "coco.json").write_text(json.dumps(coco))
    (sandbox.mission_dir / "first.xml").write_text(_cvat_xml(("frame_01.png", "truck")))
    imports = sandbox.ops("Annotations")
    assert imports.create({"task_id": task["id"], "format": "CVAT 1.1", "file": "first.xml"}).outputs["shapes"] == 1
    appended = imports.create(
        {"task_id": task["id"], "format": "COCO 1.0", "file": "coco.json", "import_mode": "append"}
    )
    assert appended.outputs["shapes"] == 2
    replaced = imports.create({"task_id": task["id"], "format": "COCO 1.0", "file": "coco.json"})
    assert replaced.outputs["shapes"] == 1


def test_an_unknown_label_fails_the_import_with_its_name(sandbox, task) -> None:
    """A label the task does not have fails the background request; the message names the label."""
    (sandbox.mission_dir / "bad.xml").write_text(_cvat_xml(("frame_00.png", "bicycle")))
    imports = sandbox.ops("Annotations")
    record = imports.submit({"task_id": task["id"], "format": "CVAT 1.1", "file": "bad.xml"})
    time.sleep(0.01)
    result = imports.kind.poll(record, imports.context())
    while result.status == "running":
        time.sleep(0.01)
        result = imports.kind.poll(record, imports.context())
    assert result.status == "failed"
    assert result.message == "CVAT could not import bad.xml: Label 'bicycle' is not registered for this task"


def test_an_edited_file_shows_as_drift(sandbox, task) -> None:
    """read reports the file as changed once its content differs from what was imported."""
    path = sandbox.mission_dir / "edit.xml"
    path.write_text(_cvat_xml(("frame_00.png", "car")))
    imports = sandbox.ops("Annotations")
    record = imports.create({"task_id": task["id"], "format": "CVAT 1.1", "file": "edit.xml"})
    assert imports.read(record).observed["file"] == "edit.xml"
    path.write_text(_cvat_xml(("frame_00.png", "truck")))
    assert imports.read(record).observed["file"] == "edit.xml (changed since the import)"


def test_adopt_finds_an_import_started_before_a_crash(sandbox, task) -> None:
    """An import request made since the intent is adopted instead of importing twice."""
    (sandbox.mission_dir / "a.xml").write_text(_cvat_xml(("frame_02.png", "car")))
    imports = sandbox.ops("Annotations")
    spec = {"task_id": task["id"], "format": "CVAT 1.1", "file": "a.xml"}
    key, intent = str(uuid.uuid4()), time.time()
    made = imports.kind.create(spec, imports.context(key, intent))
    adopted = imports.kind.adopt(spec, imports.context(key, intent))
    assert adopted is not None and adopted.remote_id == made.remote_id
    assert imports.kind.adopt(spec, imports.context(key, time.time() + 1)) is None


def test_an_unknown_format_is_refused_by_the_server(sandbox, task) -> None:
    """Without the plan check, CVAT's own 400 for an unknown importer reaches the user."""
    from skyform.errors import PermanentError

    (sandbox.mission_dir / "x.xml").write_text(_cvat_xml())
    with pytest.raises(PermanentError, match="Unknown input format 'YOLO 9'"):
        sandbox.ops("Annotations").create({"task_id": task["id"], "format": "YOLO 9", "file": "x.xml"})
