"""Auth, pagination and adoption against the simulator over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from satellogic_support import Sandbox, poi_spec

from skyform import redact
from skyform.errors import AdoptError, AuthError
from skyform_satellogic.provider import PROVIDER
from skyform_satellogic.simulator.server import CLIENT_SECRET, STATIC_TOKEN, TOKEN_TTL

TASK = PROVIDER.kind("Task")


# -- auth --------------------------------------------------------------------------------------


def test_api_refuses_calls_without_the_authorization_token_header(sandbox: Sandbox) -> None:
    """No header, the wrong header name, or an unknown token: 401 {"message": "Unauthorized"}."""
    url = sandbox.settings["url"] + "/products/"
    for headers in (
        {},
        {"Authorization": f"Bearer {STATIC_TOKEN}"},
        {"authorizationToken": "Bearer nope"},
        {"authorizationToken": STATIC_TOKEN},
    ):
        r = httpx.get(url, headers=headers)
        assert (r.status_code, r.json()) == (401, {"message": "Unauthorized"}), headers
    assert httpx.get(url, headers={"authorizationToken": f"Bearer {STATIC_TOKEN}"}).status_code == 200


def test_static_token_setting_is_sent_as_authorization_token(start_sandbox: Callable[..., Sandbox]) -> None:
    """settings.token alone works: sent as `authorizationToken: Bearer <token>`."""
    sb = start_sandbox(settings={"token": STATIC_TOKEN, "client_id": None, "client_secret": None})
    assert [p["pk"] for p in sb.client.products()] == [90, 169, 178]
    assert len(sb.sim.data["tokens"]) == 1  # no OAuth token was fetched
    assert STATIC_TOKEN in redact.known_secrets()


def test_token_is_fetched_once_and_cached(sandbox: Sandbox) -> None:
    """Client credentials: one token for many calls."""
    for _ in range(3):
        sandbox.client.get_task(1)
    assert len(sandbox.sim.data["tokens"]) == 2  # the static sandbox token + one issued


def test_expired_token_is_refreshed_once_on_401(sandbox: Sandbox) -> None:
    """When the service answers 401 for an expired token, a new one is fetched and the call retried."""
    ctx = sandbox.ctx()
    record = sandbox.record(poi_spec(), TASK.create(poi_spec(), ctx), ctx)
    first = set(sandbox.sim.data["tokens"])
    sandbox.sim.expire_tokens()
    assert TASK.poll(record, ctx).remote_id == record.remote_id
    assert len(set(sandbox.sim.data["tokens"]) - first) == 1


def test_token_expires_on_the_simulated_clock(start_sandbox: Callable[..., Sandbox]) -> None:
    """Tokens live the documented 24 h of simulated time; the client refreshes transparently.

    The 24 h pass by dating the issued tokens back by their real length on the clock, not by a
    sleep: at 10,000x a fresh token lives 8.6 real seconds, so the refreshed one cannot expire
    before the retried call on a loaded machine (at 1,000,000x, 0.09 s, it did).
    """
    sb = start_sandbox(clock=10_000, token_ttl=TOKEN_TTL)
    sb.client.get_task(1)
    tokens = sb.sim.data["tokens"]
    issued = len(tokens)
    with sb.sim.lock:
        for token, at in tokens.items():
            if at is not None:  # the static token never expires
                tokens[token] = at - sb.sim.clock.real(TOKEN_TTL)
    sb.client.get_task(1)
    assert len(tokens) == issued + 1


def test_refused_client_secret_is_an_auth_error_without_the_secret(start_sandbox: Callable[..., Sandbox]) -> None:
    """A wrong secret fails with AuthError and a hint; the secret never appears in the message.

    In a registry of its own (``redact.isolated``): what is known is what this client
    registered, not what an earlier test left (run alone, this test once failed on that).
    """
    secret = "wrong-secret-0123456789"
    with redact.isolated():
        sb = start_sandbox(settings={"client_secret": secret})
        with pytest.raises(AuthError) as err:
            sb.client.products()
        assert "refused the client credentials (HTTP 401)" in err.value.message
        assert secret not in err.value.message and secret in redact.known_secrets()


def test_client_secret_is_registered_when_the_client_is_made(start_sandbox: Callable[..., Sandbox]) -> None:
    """The OAuth client secret from the settings is masked before any call is made."""
    with redact.isolated():
        start_sandbox()
        assert CLIENT_SECRET in redact.known_secrets()


def test_contract_id_is_sent_as_its_header(start_sandbox: Callable[..., Sandbox]) -> None:
    """Aleph accounts: X-Satellogic-Contract-Id on every call; without it, unauthorized."""
    sb = start_sandbox(contract_id="c-123")
    assert sb.settings["contract_id"] == "c-123"
    assert sb.client.products()
    bare = PROVIDER.connect({**sb.settings, "contract_id": None})
    try:
        with pytest.raises(AuthError) as err:
            bare.products()
        assert "unauthorized (HTTP 401)" in err.value.message and "contract_id" in (err.value.hint or "")
    finally:
        bare.close()


# -- pagination --------------------------------------------------------------------------------


def test_lists_follow_next_beyond_one_page(start_sandbox: Callable[..., Sandbox]) -> None:
    """limit/offset paging: next/previous are full URLs; the client reads every page."""
    sb = start_sandbox(max_limit=2)
    for i in range(5):
        sb.client.create_task({**poi_spec(task_name=f"t{i}"), "product": 169})
    sb.client.create_task({**poi_spec(project_name="Other"), "product": 169})
    names = [t["task_name"] for t in sb.client.project_tasks("Theme parks")]
    assert names == ["t0", "t1", "t2", "t3", "t4"]
    auth = {"authorizationToken": f"Bearer {STATIC_TOKEN}"}
    page = httpx.get(sb.settings["url"] + "/tasks/", params={"offset": 2, "limit": 100}, headers=auth).json()
    assert page["count"] == 6 and len(page["results"]) == 2
    assert page["next"] == sb.settings["url"] + "/tasks/?limit=2&offset=4"
    assert page["previous"] == sb.settings["url"] + "/tasks/?limit=2"


def test_captures_are_read_across_pages(start_sandbox: Callable[..., Sandbox]) -> None:
    """A task with more captures than a page holds reports all of them."""
    sb = start_sandbox(max_limit=2)
    ctx = sb.ctx()
    spec = poi_spec(max_captures=5, max_simultaneous_captures=5, wait_for="accepted")
    record = sb.record(spec, TASK.create(spec, ctx), ctx)
    assert TASK.poll(record, ctx).outputs["capture_count"] == 5


# -- adoption ----------------------------------------------------------------------------------


def test_adopt_after_a_crash_right_after_the_post_finds_the_task(sandbox: Sandbox) -> None:
    """create, then adopt with the same context: the same task, nothing created twice."""
    ctx = sandbox.ctx()
    spec = poi_spec(start="2030-12-23T00:00:00+03:00", end="2031-01-12T00:00:00+03:00", priority=14)
    created = TASK.create(spec, ctx)
    adopted = TASK.adopt(spec, ctx)
    assert adopted is not None and adopted.remote_id == created.remote_id
    assert adopted.private["product_pk"] == 169
    assert sandbox.sim.objects() == {"task": 1}


def test_adopt_without_a_task_returns_none(sandbox: Sandbox) -> None:
    """Nothing was created for the intent: the engine may create."""
    assert TASK.adopt(poi_spec(), sandbox.ctx()) is None


def test_adopt_ignores_tasks_created_before_the_intent(sandbox: Sandbox) -> None:
    """An identical task ordered before this intent (beyond clock skew) is someone else's."""
    spec = poi_spec()
    TASK.create(spec, sandbox.ctx())
    assert TASK.adopt(spec, sandbox.ctx(intent_at=time.time() + 600)) is None


@pytest.mark.parametrize(
    "change",
    [
        {"task_name": "Other"},
        {"product": 90},
        {"target": {"type": "Point", "coordinates": [72.9, 19.0]}},
        {"end": "2031-01-13T00:00:00+03:00"},
        {"priority": 13},
        {"expected_age": "7 days, 00:00:00"},
    ],
)
def test_adopt_requires_every_recorded_field_to_match(sandbox: Sandbox, change: dict) -> None:
    """A task in the project that differs in any ordered field is not adopted."""
    ctx = sandbox.ctx()
    spec = poi_spec(start="2030-12-23T00:00:00+03:00", end="2031-01-12T00:00:00+03:00", priority=14)
    TASK.create({**spec, **change}, ctx)
    assert TASK.adopt(spec, ctx) is None


def test_adopt_reports_ambiguity_instead_of_guessing(sandbox: Sandbox) -> None:
    """Two matching tasks after the intent: AdoptError listing both ids."""
    ctx = sandbox.ctx()
    spec = poi_spec()
    ids = [TASK.create(spec, ctx).remote_id for _ in range(2)]
    with pytest.raises(AdoptError) as err:
        TASK.adopt(spec, ctx)
    assert err.value.candidates == ids
    assert "2 tasks in project 'Theme parks' match 'Disney Land'" in err.value.message
    assert ", ".join(ids) in err.value.message


def test_adopt_pages_through_the_project(start_sandbox: Callable[..., Sandbox]) -> None:
    """The matching task may sit beyond the first page of the project's tasks."""
    sb = start_sandbox(max_limit=2)
    ctx = sb.ctx()
    for i in range(4):
        TASK.create(poi_spec(task_name=f"other {i}", wait_for="accepted"), ctx)
    created = TASK.create(poi_spec(wait_for="accepted"), ctx)
    adopted = TASK.adopt(poi_spec(wait_for="accepted"), ctx)
    assert adopted is not None and adopted.remote_id == created.remote_id and adopted.status == "ready"
