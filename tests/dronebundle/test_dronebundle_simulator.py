"""The simulator answers bad requests the way the documented API does: {message} bodies with
400/404, never a stack trace; ids in the documented UUIDv7 form; update answers."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from skyform_dronebundle.simulator.access import OTHER_WORKSPACE_KEY, SANDBOX_KEY

JOB = {"name": "n", "type": "drone_inspection", "job_pattern": "one_time", "start_date": "2030-01-01"}


@pytest.fixture
def api(sandbox: Any) -> httpx.Client:
    with httpx.Client(base_url=sandbox.settings()["url"], headers={"Authorization": f"Bearer {SANDBOX_KEY}"}) as c:
        yield c


@pytest.mark.parametrize(
    "content, message",
    [
        (b"{not json", "Request body must be valid JSON"),
        (b"[1, 2]", "Request body must be a JSON object"),
        (b'{"name": "x", "colour": "red"}', "Unknown field: colour"),
    ],
)
def test_bad_bodies_are_400_with_a_message(api: httpx.Client, content: bytes, message: str) -> None:
    """Malformed or unexpected bodies: 400 {"message"}."""
    response = api.post("/projects", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json() == {"message": message}


def test_unknown_paths_and_objects_are_404_with_a_message(api: httpx.Client, project_id: str) -> None:
    """Unknown routes, projects and jobs: 404 {"message"}."""
    assert api.get("/nothing/here").json() == {"message": "Not found"}
    missing = "01900000-0000-7000-8000-00000000dead"
    assert api.get(f"/projects/{missing}").status_code == 404
    r = api.get(f"/projects/{project_id}/jobs/{missing}")
    assert r.status_code == 404 and r.json() == {"message": "Job not found"}


def test_a_job_is_reachable_only_through_its_own_project(api: httpx.Client, project_id: str) -> None:
    """The same job id under another project is not found."""
    job_id = api.post(f"/projects/{project_id}/jobs", json=JOB).json()["id"]
    other = api.post("/projects", json={"name": "other"}).json()["id"]
    assert api.get(f"/projects/{other}/jobs/{job_id}").status_code == 404


def test_workspaces_do_not_see_each_other(sandbox: Any, project_id: str) -> None:
    """A key is bound to one workspace: another workspace's project is not found, nor listed."""
    headers = {"Authorization": f"Bearer {OTHER_WORKSPACE_KEY}"}
    url = sandbox.settings()["url"]
    assert httpx.get(f"{url}/projects/{project_id}", headers=headers).status_code == 404
    assert project_id not in [p["id"] for p in httpx.get(f"{url}/projects", headers=headers).json()["projects"]]


def test_create_answers_only_the_id_and_update_a_message(api: httpx.Client, project_id: str) -> None:
    """POST answers {"id"} (UUIDv7); PATCH answers {"message": "Job updated"}; GET has created/updated
    in epoch milliseconds and every recurring field (null when unused)."""
    created = api.post(f"/projects/{project_id}/jobs", json=JOB)
    assert created.status_code == 201 and set(created.json()) == {"id"}
    job_id = created.json()["id"]
    assert re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", job_id)
    updated = api.patch(f"/projects/{project_id}/jobs/{job_id}", json={"priority": "high"})
    assert updated.json() == {"message": "Job updated"}
    job = api.get(f"/projects/{project_id}/jobs/{job_id}").json()
    assert job["priority"] == "high" and isinstance(job["created"], int) and job["created"] > 10**12
    assert job["recurring_frequency"] is None and job["weeks_of_month"] is None


def test_patch_validates_the_merged_job(api: httpx.Client, project_id: str) -> None:
    """An end_date before the stored start_date is refused on PATCH with the documented message."""
    job_id = api.post(f"/projects/{project_id}/jobs", json=JOB).json()["id"]
    r = api.patch(f"/projects/{project_id}/jobs/{job_id}", json={"end_date": "2029-12-31"})
    assert r.status_code == 400 and r.json() == {"message": "end_date must be on or after start_date"}


def test_unassign_follows_the_documented_answers(api: httpx.Client, project_id: str) -> None:
    """Unassign pilots: 400 for an empty list, 404 when the job has no such assignment."""
    job_id = api.post(f"/projects/{project_id}/jobs", json=JOB).json()["id"]
    assert api.post(f"/projects/{project_id}/jobs/{job_id}/unassign", json={"pilots": []}).status_code == 400
    assert api.post(f"/projects/{project_id}/jobs/{job_id}/unassign", json={"pilots": ["u1"]}).status_code == 404


def test_team_is_cursor_paginated_and_filtered_by_role(sandbox: Any) -> None:
    """GET /team: role filter (pilot) and cursor pages; an unknown role is a 400."""
    from skyform.sandbox.host import SimulatorHost
    from skyform_dronebundle.simulator.server import DroneBundleSimulator

    with SimulatorHost() as host:
        url = host.start(DroneBundleSimulator(page_size=4)).settings()["url"]
        headers = {"Authorization": f"Bearer {SANDBOX_KEY}"}
        first = httpx.get(f"{url}/team", headers=headers).json()
        assert first["count"] == 4 and first["cursor"]
        rest = httpx.get(f"{url}/team", params={"cursor": first["cursor"]}, headers=headers).json()
        assert rest["cursor"] is None and len(first["members"]) + len(rest["members"]) == 6
        pilots = httpx.get(f"{url}/team", params={"role": "pilot"}, headers=headers).json()["members"]
        assert {m["role"] for m in pilots} == {"pilot"} and len(pilots) == 2
        assert httpx.get(f"{url}/team", params={"role": "boss"}, headers=headers).status_code == 400


@pytest.mark.parametrize(
    "body, message",
    [
        ({"name": "x", "url": "https://hooks.example/in", "event_types": ["job.created"]}, "name must be between 2"),
        (
            {"name": "ops", "url": "http://hooks.example/in", "event_types": ["job.created"]},
            "url must be a valid https",
        ),
        ({"name": "ops", "url": "https://hooks.example/in", "event_types": []}, "event_types must be a non-empty"),
    ],
)
def test_webhook_bodies_are_validated(api: httpx.Client, body: dict, message: str) -> None:
    """POST /webhooks: name 2-100, an https url, known event types."""
    r = api.post("/webhooks", json=body)
    assert r.status_code == 400 and r.json()["message"].startswith(message)


def test_webhook_secret_is_returned_once(api: httpx.Client) -> None:
    """A created webhook answers its signing secret dbwhsec_... (shown once)."""
    r = api.post(
        "/webhooks",
        json={"name": "ops", "url": "https://hooks.example/in", "event_types": ["job.created", "job.updated"]},
    )
    assert r.status_code == 201 and r.json()["secret"].startswith("dbwhsec_")
