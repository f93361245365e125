"""The simulator's answers against cvat-sdk 2.80's generated models (CVAT's OpenAPI schema),
its DRF pagination and error bodies, and its auth rules - over raw HTTP, without the provider."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from cvat_sdk.api_client import ApiClient, Configuration, models

from skyform_cvat.simulator.server import SANDBOX_ADMIN, SANDBOX_TOKEN


class _Raw:
    """What ApiClient.deserialize reads from a urllib3 response."""

    def __init__(self, response: httpx.Response) -> None:
        self.headers = response.headers
        self.data = response.content


def _strict(model: type, response: httpx.Response) -> Any:
    """Deserialise as cvat-sdk does (type-checked), and refuse keys the schema does not define."""
    assert response.status_code < 300, response.text
    parsed = ApiClient(Configuration()).deserialize(_Raw(response), (model,), _check_type=True)
    _known_keys(model, response.json())
    return parsed


def _known_keys(model: type, body: Any) -> None:
    if isinstance(body, list):
        for item in body:
            _known_keys(model, item)
        return
    if not isinstance(body, dict) or not hasattr(model, "attribute_map"):
        return
    unknown = set(body) - set(model.attribute_map)
    assert not unknown, f"{model.__name__} has no field(s) {sorted(unknown)}"
    for key, value in body.items():
        for candidate in model.openapi_types[key]:
            inner = candidate[0] if isinstance(candidate, list) else candidate
            if isinstance(inner, type) and hasattr(inner, "attribute_map") and value is not None:
                _known_keys(inner, value)


@pytest.fixture
def api(sandbox) -> httpx.Client:
    with httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"}) as client:
        yield client


@pytest.fixture
def world(sandbox, images, api) -> dict[str, Any]:
    """A project with a task of six frames (three jobs), a ground-truth job and an export request."""
    project = sandbox.ops("Project").create(
        {
            "name": "schema",
            "labels": [{"name": "car", "attributes": [{"name": "make", "input_type": "select", "values": ["a", "b"]}]}],
        }
    )
    task = sandbox.ops("Task").create(
        {"name": "schema", "project_id": project.outputs["id"], "images": images, "segment_size": 2}
    )
    gt = sandbox.ops("Job").create(
        {
            "type": "ground_truth",
            "task_id": task.outputs["id"],
            "frame_selection_method": "random_uniform",
            "frame_share": 0.5,
            "assignee": "alice",
        }
    )
    rq = api.post(f"/api/tasks/{task.outputs['id']}/dataset/export", params={"format": "COCO 1.0"}).json()["rq_id"]
    return {"project": project.outputs["id"], "task": task.outputs["id"], "gt": int(gt.remote_id), "rq": rq}


@pytest.mark.parametrize(
    "path, model",
    [
        ("/api/server/about", models.About),
        ("/api/server/annotation/formats", models.DatasetFormats),
        ("/api/projects", models.PaginatedProjectReadList),
        ("/api/projects/{project}", models.ProjectRead),
        ("/api/tasks", models.PaginatedTaskReadList),
        ("/api/tasks/{task}", models.TaskRead),
        ("/api/tasks/{task}/data/meta", models.DataMetaRead),
        ("/api/jobs?task_id={task}", models.PaginatedJobReadList),
        ("/api/jobs/{gt}", models.JobRead),
        ("/api/jobs/{gt}/annotations/", models.LabeledData),
        ("/api/labels?project_id={project}", models.PaginatedLabelList),
        ("/api/users", models.PaginatedMetaUserList),
        ("/api/users/self", models.MetaUser),
        ("/api/requests", models.PaginatedRequestList),
        ("/api/requests/{rq}", models.Request),
    ],
)
def test_answers_match_the_sdk_models(api, world, path, model) -> None:
    """Every required field is present with the schema's type, and no field is outside the schema."""
    _strict(model, api.get(path.format(**world)))


def test_a_task_without_data_omits_the_data_fields(api) -> None:
    """Before its data is processed a task has no size, as CVAT answers (the SDK accepts both)."""
    created = api.post("/api/tasks", json={"name": "empty", "labels": [{"name": "car"}]})
    assert created.status_code == 201
    task = _strict(models.TaskRead, created)
    assert "size" not in created.json() and task.mode == ""


def test_pagination_is_drf_page_number(api, world) -> None:
    """count/next/previous/results with page and page_size; an out-of-range page is 404 'Invalid page.'"""
    first = api.get("/api/jobs", params={"page_size": 2}).json()
    assert first["count"] == 4 and len(first["results"]) == 2 and first["previous"] is None
    assert "page=2" in first["next"]
    last = api.get(first["next"]).json()
    assert last["next"] is None and "page=1" in last["previous"]
    assert [j["id"] for j in first["results"]] == [4, 3]  # newest first
    assert api.get("/api/jobs", params={"page_size": "all"}).json()["count"] == 4
    missing = api.get("/api/jobs", params={"page": 9})
    assert (missing.status_code, missing.json()) == (404, {"detail": "Invalid page."})


@pytest.mark.parametrize(
    "method, path, body, status, answer",
    [
        ("GET", "/api/tasks/999", None, 404, {"detail": "Not found."}),
        ("PATCH", "/api/jobs/1", {"stage": "bogus"}, 400, {"stage": ['"bogus" is not a valid choice.']}),
        ("PATCH", "/api/jobs/1", {"assignee": 99}, 400, {"assignee": ['Invalid pk "99" - object does not exist.']}),
        ("POST", "/api/projects", {}, 400, {"name": ["This field is required."]}),
        ("POST", "/api/tasks", {"name": "x"}, 400, {"non_field_errors": ["Label set or project_id must be present"]}),
        ("DELETE", "/api/jobs/1", None, 400, ["Only ground truth jobs can be removed"]),
        (
            "POST",
            "/api/jobs",
            {"type": "annotation", "task_id": 1},
            400,
            {"type": ['Unexpected job type "annotation"']},
        ),
        ("POST", "/api/tasks/1/dataset/export", None, 400, {"format": ["This field is required."]}),
    ],
)
def test_errors_are_drf_style(api, world, method, path, body, status, answer) -> None:
    """Bad requests get DRF's status and body, never a stack trace."""
    response = api.request(method, path, json=body)
    assert (response.status_code, response.json()) == (status, answer)


def test_auth_variants(sandbox, world) -> None:
    """Bearer PAT, Basic and the login token work; no or wrong credentials are 401; others' jobs 403."""
    url = sandbox.base_url
    assert httpx.get(f"{url}/api/server/about").status_code == 200  # no auth needed
    assert httpx.get(f"{url}/api/tasks").json() == {"detail": "Authentication credentials were not provided."}
    assert httpx.get(f"{url}/api/tasks", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert httpx.get(f"{url}/api/tasks", auth=SANDBOX_ADMIN).status_code == 200
    login = httpx.post(f"{url}/api/auth/login", json={"username": "bob", "password": "sandbox-annotator-password"})
    key = login.json()["key"]
    assert {"sessionid", "csrftoken"} <= set(login.cookies)
    as_bob = {"Authorization": f"Token {key}"}
    assert httpx.get(f"{url}/api/jobs/{world['gt']}", headers=as_bob).status_code == 403
    assert httpx.get(f"{url}/api/jobs", headers=as_bob).json()["count"] == 0
    # a session needs the CSRF header for unsafe methods
    cookies = dict(login.cookies)
    refused = httpx.post(f"{url}/api/projects", json={"name": "x"}, cookies=cookies)
    assert (refused.status_code, refused.json()) == (403, {"detail": "CSRF Failed: CSRF token missing."})
    allowed = httpx.post(
        f"{url}/api/projects", json={"name": "x"}, cookies=cookies, headers={"X-CSRFToken": cookies["csrftoken"]}
    )
    assert allowed.status_code == 201


def test_organization_header_scopes_lists(sandbox, api, world) -> None:
    """X-Organization: slug shows that org's objects; empty shows the personal workspace; unknown is 404."""
    in_org = api.post("/api/projects", json={"name": "org"}, headers={"X-Organization": "skyform"}).json()
    assert in_org["organization"] == 1
    names = lambda h: [p["name"] for p in api.get("/api/projects", headers=h).json()["results"]]  # noqa: E731
    assert names({"X-Organization": "skyform"}) == ["org"]
    assert names({"X-Organization": ""}) == ["schema"]
    assert sorted(names({})) == ["org", "schema"]
    assert api.get("/api/projects", headers={"X-Organization": "nope"}).status_code == 404


def test_tus_upload_protocol(sandbox, api, world) -> None:
    """A TUS upload: POST (201 + Location), PATCH chunks with Upload-Offset, HEAD for the offset."""
    content = json.dumps({"images": [], "annotations": [], "categories": []}).encode()
    base = f"/api/tasks/{world['task']}/annotations/"
    assert api.post(base, params={"format": "COCO 1.0"}, headers={"Upload-Start": ""}).status_code == 202
    created = api.post(
        base,
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(content)),
            "Upload-Metadata": "filename Y29jby5qc29u",
        },
    )
    assert created.status_code == 201 and created.headers["Upload-Filename"] == "coco.json"
    location = created.headers["Location"]
    half = len(content) // 2
    first = api.patch(location, content=content[:half], headers={"Upload-Offset": "0", "Tus-Resumable": "1.0.0"})
    assert (first.status_code, first.headers["Upload-Offset"]) == (204, str(half))
    assert api.request("HEAD", location).headers["Upload-Offset"] == str(half)
    wrong = api.patch(location, content=content[half:], headers={"Upload-Offset": "0"})
    assert wrong.status_code == 409
    api.patch(location, content=content[half:], headers={"Upload-Offset": str(half)})
    finish = api.post(base, params={"format": "COCO 1.0", "filename": "coco.json"}, headers={"Upload-Finish": ""})
    assert finish.status_code == 202 and finish.json()["rq_id"].startswith("action=import&target=task")


def test_media_and_exports_survive_a_simulator_restart(tmp_path, images) -> None:
    """With a state directory, a restarted simulator still has the task's frames and finished exports."""
    from skyform.sandbox.clock import SimClock
    from skyform.sandbox.faults import Faults
    from skyform.sandbox.host import SimulatorHost
    from skyform.sandbox.simulator import SimulatorOptions
    from skyform_cvat.simulator import CvatSimulator

    state = tmp_path / "state"

    def start():
        return CvatSimulator(SimulatorOptions(state_dir=state, clock=SimClock(20000), faults=Faults()))

    with SimulatorHost() as host:
        running = host.start(start())
        from skyform.testing import Operations
        from skyform_cvat.provider import PROVIDER

        mission = tmp_path / "mission"  # where the images fixture wrote the photos
        ops = Operations(PROVIDER, "Task", running.settings(), mission, poll_interval=0.01)
        task = ops.create({"name": "persist", "labels": [{"name": "car"}], "images": images[:2]}).outputs["id"]
        ops.close()
    with SimulatorHost() as host:
        running = host.start(start())
        ops = Operations(PROVIDER, "Export", running.settings(), mission, poll_interval=0.01)
        exported = ops.create({"task_id": task, "format": "COCO 1.0", "include_images": True})
        ops.close()
    import zipfile

    with zipfile.ZipFile(exported.outputs["path"]) as zf:
        assert "images/frame_01.png" in zf.namelist()


def test_personal_access_tokens(sandbox, api) -> None:
    """A PAT made through the API works as Bearer; read-only ones cannot write; deleted ones stop working."""
    created = api.post("/api/auth/access_tokens", json={"name": "ci", "read_only": True})
    assert created.status_code == 201
    token = _strict(models.AccessTokenRead, created)
    headers = {"Authorization": f"Bearer {token.value}"}
    assert httpx.get(f"{sandbox.base_url}/api/projects", headers=headers).status_code == 200
    assert httpx.post(f"{sandbox.base_url}/api/projects", json={"name": "x"}, headers=headers).status_code == 403
    me = _strict(models.AccessTokenRead, httpx.get(f"{sandbox.base_url}/api/auth/access_tokens/self", headers=headers))
    assert me.id == token.id and "value" not in me
    listed = _strict(models.PaginatedAccessTokenReadList, api.get("/api/auth/access_tokens"))
    assert {t.name for t in listed.results} == {"skyform sandbox", "ci"}
    assert api.delete(f"/api/auth/access_tokens/{token.id}").status_code == 204
    gone = httpx.get(f"{sandbox.base_url}/api/projects", headers=headers)
    assert (gone.status_code, gone.json()) == (401, {"detail": "Invalid token."})
    past = api.post("/api/auth/access_tokens", json={"name": "old", "expiry_date": "2001-01-01T00:00:00Z"})
    assert past.json() == {"expiry_date": ["The expiration date must be in the future."]}
