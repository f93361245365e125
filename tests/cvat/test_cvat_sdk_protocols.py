"""cvat-sdk's own calls against the simulator, beyond what the provider uses: media through TUS
and through one multipart request, and annotation CRUD on tasks and jobs."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from cvat_sdk.api_client import exceptions, models
from cvat_sdk.core.client import AccessTokenCredentials, Client, Config
from cvat_sdk.core.proxies.annotations import AnnotationUpdateAction
from cvat_sdk.core.uploading import DataUploader

from skyform_cvat.simulator.server import SANDBOX_TOKEN


@pytest.fixture
def sdk(sandbox):
    client = Client(sandbox.base_url, config=Config(status_check_period=0.01), check_server_version=False)
    client.login(AccessTokenCredentials(SANDBOX_TOKEN))
    yield client
    client.close()


def _task(sdk, name: str = "t") -> object:
    return sdk.tasks.create(
        models.TaskWriteRequest(name=name, labels=[models.PatchedLabelRequest(name="car")], segment_size=2)
    )


def test_media_through_tus(sandbox, sdk, images) -> None:
    """Files above the bulk limit go through TUS (POST + PATCH chunks); the task gets every frame."""
    task = _task(sdk)
    url = sdk.api_map.make_endpoint_url(sdk.api_client.tasks_api.create_data_endpoint.path, kwsub={"id": task.id})
    paths = [sandbox.mission_dir / p for p in images[:3]]
    response = DataUploader(sdk, max_request_size=1).upload_files(url, paths, image_quality=70)
    sdk.wait_for_completion(json.loads(response.data)["rq_id"], status_check_period=0.01)
    task.fetch()
    assert task.size == 3
    assert [f.name for f in task.get_frames_info()] == ["frame_00.png", "frame_01.png", "frame_02.png"]


def test_media_in_one_multipart_request(sandbox, sdk, images) -> None:
    """A plain DataRequest with client_files[] answers 202 with the request id."""
    task = _task(sdk)
    files = [
        (f"client_files[{i}]", (Path(p).name, (sandbox.mission_dir / p).read_bytes(), "image/png"))
        for i, p in enumerate(images[:2])
    ]
    response = httpx.post(
        f"{sandbox.base_url}/api/tasks/{task.id}/data/",
        data={"image_quality": "50"},
        files=files,
        headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
    )
    assert response.status_code == 202
    sdk.wait_for_completion(response.json()["rq_id"], status_check_period=0.01)
    assert sdk.tasks.retrieve(task.id).size == 2
    again = httpx.post(
        f"{sandbox.base_url}/api/tasks/{task.id}/data/",
        data={"image_quality": "50"},
        files=files,
        headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
    )
    assert (again.status_code, again.json()) == (400, {"detail": "Adding more data is not supported"})


def test_annotation_crud_on_jobs_and_tasks(sandbox, sdk, images) -> None:
    """PUT on a job replaces its frames; PATCH adds, updates and deletes by id; DELETE clears."""
    task = sdk.tasks.create_from_data(
        models.TaskWriteRequest(name="crud", labels=[models.PatchedLabelRequest(name="car")], segment_size=2),
        [sandbox.mission_dir / p for p in images[:4]],
        status_check_period=0.01,
    )
    label = task.get_labels()[0].id
    second = sorted(task.get_jobs(), key=lambda j: j.start_frame)[1]

    def box(frame: int) -> models.LabeledShapeRequest:
        return models.LabeledShapeRequest(type="rectangle", frame=frame, label_id=label, points=[1.0, 1.0, 5.0, 5.0])

    second.set_annotations(models.LabeledDataRequest(shapes=[box(2), box(3)]))
    assert sorted(s.frame for s in task.get_annotations().shapes) == [2, 3]
    task.update_annotations(models.PatchedLabeledDataRequest(shapes=[box(0)]), action=AnnotationUpdateAction.CREATE)
    shapes = task.get_annotations().shapes
    assert len(shapes) == 3
    task.remove_annotations(ids=[s.id for s in shapes if s.frame == 2])
    assert sorted(s.frame for s in task.get_annotations().shapes) == [0, 3]
    assert [s.frame for s in second.get_annotations().shapes] == [3]
    with pytest.raises(exceptions.ApiException) as caught:
        second.set_annotations(models.LabeledDataRequest(shapes=[box(0)]))
    assert caught.value.status == 400 and json.loads(caught.value.body) == "Incorrect requested frame number: 0"
    task.remove_annotations()
    assert task.get_annotations().shapes == []


def test_frames_download_through_the_sdk(sandbox, sdk, images, tmp_path) -> None:
    """Task.download_frames / Job.get_frame fetch the uploaded images; a frame outside a job is 400."""
    task = sdk.tasks.create_from_data(
        models.TaskWriteRequest(name="frames", labels=[models.PatchedLabelRequest(name="car")], segment_size=2),
        [sandbox.mission_dir / p for p in images[:4]],
        status_check_period=0.01,
    )
    task.download_frames([0, 3], outdir=tmp_path / "frames")
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == ["frame_000000.png", "frame_000003.png"]
    job = sorted(task.get_jobs(), key=lambda j: j.start_frame)[1]
    assert job.get_frame(2, quality="original").read() == (sandbox.mission_dir / images[2]).read_bytes()
    with pytest.raises(exceptions.ApiException) as caught:
        job.get_frame(0, quality="original")
    assert caught.value.status == 400
