"""Projects over real HTTP: create/get/update, cursor pagination, adopt by name after a crash."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from skyform.errors import AdoptError, PermanentError
from skyform.providers import Change
from skyform.sandbox.host import Running, SimulatorHost
from skyform_dronebundle.client import DroneBundleClient
from skyform_dronebundle.provider import connect
from skyform_dronebundle.simulator.access import SANDBOX_KEY
from skyform_dronebundle.simulator.server import SANDBOX_PROJECT_ID, DroneBundleSimulator


def test_create_read_update_project(project_kind, make_ctx, record_of, client) -> None:
    """Create returns the id and ISO timestamps; update PATCHes the changed field; read has no drift."""
    spec = {"name": f"A12 {uuid.uuid4().hex[:6]}", "description": "bridge", "status": "planned"}
    ctx = make_ctx(address="site")
    result = project_kind.create(spec, ctx)
    assert result.outputs["id"] == result.remote_id and result.outputs["created"].endswith("Z")
    record = record_of(result, spec, ctx, "dronebundle.Project")
    assert project_kind.read(record, ctx).observed == spec
    new = {**spec, "status": "in_progress", "archived": True}
    updated = project_kind.update(
        record, new, [Change(("status",), "planned", "in_progress"), Change(("archived",), None, True)], ctx
    )
    assert updated.outputs["status"] == "in_progress"
    assert client.get_project(result.remote_id)["archived"] is True


def test_project_name_rule_is_the_documented_message(sandbox, client) -> None:
    """An empty project name: 400 with the documented name message, as a PermanentError at name."""
    with pytest.raises(PermanentError) as caught:
        client.create_project({"name": ""})
    assert str(caught.value).endswith("name must be between 1 and 100 characters")
    assert caught.value.status == 400 and caught.value.field == "name"


@pytest.fixture
def small_pages() -> Iterator[Running]:
    with SimulatorHost() as host:
        yield host.start(DroneBundleSimulator(page_size=3))


def test_projects_are_cursor_paginated(small_pages) -> None:
    """Pages of page_size with count and a cursor, null on the last page; the client follows it."""
    client = DroneBundleClient(small_pages.settings()["url"], SANDBOX_KEY)
    made = [client.create_project({"name": f"p{i}"}) for i in range(7)]
    first = httpx.get(
        small_pages.settings()["url"] + "/projects", headers={"Authorization": f"Bearer {SANDBOX_KEY}"}
    ).json()
    assert first["count"] == 3 and len(first["projects"]) == 3 and first["cursor"]
    assert sorted(p["id"] for p in client.list_projects()) == sorted(made + [SANDBOX_PROJECT_ID])


def test_list_filters_status_and_archived(small_pages) -> None:
    """status (comma-separated) and archived=true filter the list."""
    client = DroneBundleClient(small_pages.settings()["url"], SANDBOX_KEY)
    a = client.create_project({"name": "a", "status": "planned"})
    b = client.create_project({"name": "b", "status": "on_hold"})
    c = client.create_project({"name": "c", "archived": True})
    assert [p["id"] for p in client.list_projects(status="planned,on_hold")] == sorted([a, b])
    assert [p["id"] for p in client.list_projects(archived=True)] == [c]


def test_adopt_reports_the_project_an_interrupted_create_may_have_made(project_kind, make_ctx, sandbox) -> None:
    """Created, then the process died: adopt names the candidate (by name, since the intent) and
    asks for import or state rm instead of guessing; nothing is created twice."""
    ctx = make_ctx(address="site")
    spec = {"name": f"crash {uuid.uuid4().hex[:6]}"}
    lost = project_kind.create(spec, ctx)
    count = sandbox.simulator.objects()["project"]
    restarted = make_ctx(address="site", key=ctx.idempotency_key, c=connect(sandbox.settings()))
    with pytest.raises(AdoptError) as caught:
        project_kind.adopt(spec, restarted)
    assert caught.value.candidates == [lost.remote_id]
    assert str(caught.value).startswith(f"possible orphan: 1 project(s) named {spec['name']!r}")
    assert "`skyform import site <project id>`" in str(caught.value)
    assert sandbox.simulator.objects()["project"] == count


def test_adopt_finds_nothing_when_the_create_never_happened(project_kind, make_ctx) -> None:
    """No project of that name since the intent: None (the engine then creates)."""
    assert project_kind.adopt({"name": f"never {uuid.uuid4().hex}"}, make_ctx()) is None


def test_adopt_refuses_to_guess_between_two(project_kind, make_ctx, client) -> None:
    """Two projects of that name since the intent: AdoptError listing both ids."""
    name = f"twice {uuid.uuid4().hex[:6]}"
    ids = {client.create_project({"name": name}), client.create_project({"name": name})}
    with pytest.raises(AdoptError) as caught:
        project_kind.adopt({"name": name}, make_ctx())
    assert set(caught.value.candidates) == ids


def test_an_old_project_of_the_same_name_is_not_adopted(project_kind, make_ctx, client) -> None:
    """A project created long before the intent (outside the skew allowance) is someone else's."""
    name = f"old {uuid.uuid4().hex[:6]}"
    client.create_project({"name": name})
    ctx = make_ctx()
    ctx.intent_at = time.time() + 3600
    assert project_kind.adopt({"name": name}, ctx) is None
