"""The simulator answers like the documented service: raw requests, DRF-shaped 400 bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from satellogic_support import Sandbox, aoi_spec, poi_spec

from skyform_satellogic.simulator.server import STATIC_TOKEN, TOKEN_TTL

AUTH = {"authorizationToken": f"Bearer {STATIC_TOKEN}"}


def post(sb: Sandbox, body: Any) -> httpx.Response:
    return httpx.post(sb.settings["url"] + "/tasks/", json=body, headers=AUTH)


def without(name: str) -> dict[str, Any]:
    body = poi_spec()
    del body[name]
    return body


REJECTED = [
    ("missing task_name", without("task_name"), {"task_name": ["This field is required."]}),
    ("missing target", without("target"), {"target": ["This field is required."]}),
    ("blank project", poi_spec(project_name="  "), {"project_name": ["This field may not be blank."]}),
    ("unknown product", poi_spec(product=999), {"product": ['Invalid pk "999" - object does not exist.']}),
    (
        "product name",
        poi_spec(product="Some product"),
        {"product": ["Incorrect type. Expected pk value, received str."]},
    ),
    ("point for AOI product", poi_spec(product=178), {"target": ["Product 178 requires a Polygon target."]}),
    (
        "open ring",
        aoi_spec(target={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}),
        {"target": ["Invalid geometry: LinearRing is not closed."]},
    ),
    (
        "bad start",
        poi_spec(start="23/12/2030"),
        {
            "start": [
                "Datetime has wrong format. Use one of these formats instead: "
                "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
            ]
        },
    ),
    (
        "end before start",
        poi_spec(start="2031-01-12T00:00:00Z", end="2030-12-23T00:00:00Z"),
        {"non_field_errors": ["The end of the capture window must be after its start."]},
    ),
    ("priority out of range", poi_spec(priority=12), {"priority": ["Priority must be between 13 and 15."]}),
    ("unknown client", poi_spec(client="Nobody"), {"client": ['Invalid client "Nobody".']}),
    (
        "max_captures zero",
        poi_spec(max_captures=0),
        {"max_captures": ["Ensure this value is greater than or equal to 1."]},
    ),
    (
        "simultaneous below max",
        poi_spec(max_captures=2, max_simultaneous_captures=1),
        {"max_simultaneous_captures": ["Ensure this value is greater than or equal to max_captures."]},
    ),
    (
        "bad expected_age",
        poi_spec(expected_age="weekly"),
        {"expected_age": ["Duration has wrong format. Use one of these formats instead: [DD] [HH:[MM:]]ss[.uuuuuu]."]},
    ),
    (
        "recurring AOI",
        aoi_spec(expected_age="7 days, 00:00:00"),
        {"expected_age": ["Recurrence (expected_age) is not available for AOI tasks."]},
    ),
]


@pytest.mark.parametrize("body, errors", [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED])
def test_invalid_task_is_rejected_with_drf_field_errors(sandbox: Sandbox, body: Any, errors: dict) -> None:
    """400 with {field: [messages]} and nothing created."""
    r = post(sandbox, body)
    assert (r.status_code, r.json()) == (400, errors)
    assert sandbox.sim.objects() == {"task": 0}


def test_created_task_echoes_the_documented_shape(sandbox: Sandbox) -> None:
    """201 with task_id, UTC instants, altitude 0.0, the default priority and status received."""
    r = post(
        sandbox, poi_spec(start="2030-12-23T00:00:00+03:00", end="2031-01-12T00:00:00+03:00", expected_age="7 00:00:00")
    )
    assert r.status_code == 201
    task = r.json()
    assert set(task) == {
        "task_id",
        "task_name",
        "project_name",
        "product",
        "start",
        "end",
        "priority",
        "client",
        "target",
        "created_time",
        "status",
        "expected_age",
    }
    assert (task["start"], task["end"]) == ("2030-12-22T21:00:00Z", "2031-01-11T21:00:00Z")
    assert task["target"]["coordinates"] == [72.905273, 19.023001, 0.0]
    assert (task["priority"], task["client"], task["status"]) == (14, "Amusement Corp", "received")
    assert task["expected_age"] == "7 days, 00:00:00"


def test_unknown_task_and_wrong_method(sandbox: Sandbox) -> None:
    """Unknown ids are 404 {"detail": "Not found."}; an undocumented method is 405."""
    r = httpx.get(sandbox.settings["url"] + "/tasks/1/", headers=AUTH)
    assert (r.status_code, r.json()) == (404, {"detail": "Not found."})
    r = httpx.delete(sandbox.settings["url"] + "/tasks/1/", headers=AUTH)
    assert r.status_code == 405


def test_task_list_filters_by_documented_get_body(sandbox: Sandbox) -> None:
    """The docs pass project_name as a JSON body on GET; the simulator honours it."""
    post(sandbox, poi_spec(project_name="A"))
    post(sandbox, poi_spec(project_name="B"))
    r = httpx.request(
        "GET", sandbox.settings["url"] + "/tasks/?limit=100&offset=0", json={"project_name": "B"}, headers=AUTH
    )
    assert [t["project_name"] for t in r.json()["results"]] == ["B"]


def test_clients_endpoint_returns_the_documented_object(sandbox: Sandbox) -> None:
    """A single-client account answers one object with the priority range and geofence."""
    for path in ("/clients/", "/client/"):
        body = httpx.get(sandbox.settings["url"] + path, headers=AUTH).json()
        assert (body["max_priority"], body["default_priority"], body["min_priority"]) == (13, 14, 15)
        assert body["geofence"] is None


def test_token_endpoint_refuses_bad_requests(start_sandbox: Callable[..., Sandbox]) -> None:
    """The documented answer (expires_in 24 h); wrong secret: 401 access_denied; wrong grant:
    400; wrong audience: 403."""
    sandbox = start_sandbox(token_ttl=TOKEN_TTL)  # the simulator's own lifetime, not the tests' longer one
    url = sandbox.settings["token_url"]
    good = {
        "client_id": sandbox.settings["client_id"],
        "client_secret": sandbox.settings["client_secret"],
        "audience": "https://api.satellogic.com/",
        "grant_type": "client_credentials",
    }
    r = httpx.post(url, json=good)
    assert r.status_code == 200 and r.json()["expires_in"] == 86400 and r.json()["token_type"] == "Bearer"
    assert httpx.post(url, json={**good, "client_secret": "nope"}).json()["error"] == "access_denied"
    assert httpx.post(url, json={**good, "grant_type": "password"}).status_code == 400
    assert httpx.post(url, json={**good, "audience": "https://other/"}).status_code == 403
