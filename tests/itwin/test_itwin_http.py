"""The iTwin HTTP contract over real HTTP: auth, headers, errors, 429, 422 mapping, listing, transitions."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from itwin_support import INPUT_ID, job_spec

from skyform import redact
from skyform.errors import AuthError, PermanentError, RateLimited
from skyform_itwin.errors import detail_targets


def _ws(client) -> str:
    return client.create_workspace({"name": "a12"})["id"]


def test_requests_without_a_token_get_the_documented_401(sandbox):
    r = httpx.get(sandbox.settings["url"] + "/jobs")
    assert r.status_code == 401
    assert r.json() == {
        "error": {
            "code": "HeaderNotFound",
            "message": "Header Authorization was not found in the request. Access denied.",
        }
    }


def test_a_refused_static_token_is_an_auth_error_without_the_token(sandbox):
    client = sandbox.client(token="not-a-real-token-value", client_id=None, client_secret=None)
    with pytest.raises(AuthError) as err:
        client.get_job("x")
    assert "401 InvalidToken" in err.value.message
    assert "not-a-real-token-value" not in err.value.message
    assert "itwin-platform scope" in err.value.hint


def test_a_static_token_from_the_token_endpoint_works(sandbox):
    token = httpx.post(
        sandbox.settings["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": sandbox.settings["client_id"],
            "client_secret": sandbox.settings["client_secret"],
            "scope": "itwin-platform",
        },
    ).json()["access_token"]
    client = sandbox.client(token=token, client_id=None, client_secret=None)
    assert client.get_job("00000000-0000-0000-0000-000000000000") is None


def test_client_credentials_token_is_fetched_once_and_refreshed_after_expiry(sandbox):
    """One token serves many calls; when IMS expires it, the next call refetches and succeeds."""
    client = sandbox.client()
    ws = _ws(client)
    client.get_workspace(ws)
    client.get_workspace(ws)
    assert sandbox.sim.token_requests == 1
    sandbox.sim.revoke_tokens()
    assert client.get_workspace(ws)["id"] == ws
    assert sandbox.sim.token_requests == 2


def test_wrong_client_secret_is_refused_by_the_token_endpoint(sandbox):
    client = sandbox.client(client_secret="wrong-secret-value")
    with pytest.raises(AuthError) as err:
        client.get_job("x")
    assert "token endpoint refused the client credentials (HTTP 400)" in err.value.message
    assert "wrong-secret-value" not in err.value.message


def test_secrets_are_registered_for_redaction(sandbox):
    client = sandbox.client()
    _ws(client)
    secret = sandbox.settings["client_secret"]
    assert redact.redact(f"x {secret} y") == "x *** y"
    token = client.auth.token()
    assert redact.redact(token) == "***"


def test_every_call_sends_the_versioned_accept_header(sandbox):
    client = sandbox.client()
    ws = _ws(client)
    client.get_workspace(ws)
    assert set(sandbox.sim.accept_headers) == {"application/vnd.bentley.itwin-platform.v1+json"}


def test_429_becomes_rate_limited_with_retry_after(sandbox):
    """A 429 answer is RateLimited (retried by the engine) with the server's Retry-After seconds."""
    client = sandbox.client()
    ws = _ws(client)
    sandbox.faults([{"fault": "status", "status": 429, "retry_after": 7, "match": "GET /contextcapture/workspaces"}])
    with pytest.raises(RateLimited) as err:
        client.get_workspace(ws)
    assert err.value.retry_after == 7
    assert "429 RateLimitExceeded: The client sent more requests than allowed" in err.value.message
    assert err.value.body["error"]["code"] == "RateLimitExceeded"


def test_422_details_map_back_to_the_spec_field(sandbox, job_kind):
    """A 422 detail's target (inputs[0].id) becomes the error's field and is named in the message."""
    client = sandbox.client()
    spec = job_spec(_ws(client), inputs=[{"id": "not-a-reality-data-id"}])
    with pytest.raises(PermanentError) as err:
        job_kind.create(spec, sandbox.ctx(client))
    assert err.value.field == "inputs.0.id"
    assert err.value.status == 422
    assert (
        "422 InvalidContextCaptureRequest: Cannot create job. (inputs.0.id: Invalid 'inputs[0].id' "
        "parameter: not a reality data id.)"
    ) in err.value.message


def test_422_for_an_invalid_enum_names_the_nested_field(sandbox):
    client = sandbox.client()
    body = job_spec(_ws(client))
    body["settings"]["quality"] = "Ultra"
    with pytest.raises(PermanentError) as err:
        client.create_job(body)
    assert err.value.field == "settings.quality"
    assert "settings.quality: Invalid 'settings.quality' parameter." in err.value.message


def test_422_without_target_uses_the_quoted_parameter():
    """The documented example has no target: "Invalid 'type' parameter." still names the field."""
    body = {
        "error": {
            "code": "InvalidContextCaptureRequest",
            "message": "Cannot create job.",
            "details": [{"code": "InvalidParameter", "message": "Invalid 'type' parameter."}],
        }
    }
    assert detail_targets(body) == [("type", "Invalid 'type' parameter.")]
    assert detail_targets("<html>") == []


def test_unknown_workspace_is_a_422_and_a_plan_check_issue(sandbox, job_kind):
    client = sandbox.client()
    missing = "0badc0de-9fd2-4900-870b-9b721dc90f25"
    with pytest.raises(PermanentError) as err:
        client.create_job(job_spec(missing))
    assert err.value.field == "workspaceId"
    issues = list(job_kind.plan_check(job_spec(missing), sandbox.ctx(client)))
    assert [(i.path, i.message) for i in issues] == [
        (("workspaceId",), f"workspace '{missing}' does not exist in iTwin")
    ]


def test_list_pages_with_top_and_continuation(sandbox):
    """$top limits a page; _links.next carries the continuation token until the last page."""
    client = sandbox.client()
    ws = _ws(client)
    ids = [client.create_job(job_spec(ws, name=f"job {i}"))["id"] for i in range(5)]
    page = client.http.get("/jobs", params={"$top": "2", "$filter": "state eq 'unsubmitted'"})
    assert len(page["jobs"]) == 2 and "continuationToken=" in page["_links"]["next"]["href"]
    assert [j["id"] for j in client.list_jobs("state eq 'unsubmitted'", top=2)] == ids
    assert [j["name"] for j in client.list_jobs("name in ('job 1', 'job 3')")] == ["job 1", "job 3"]


@pytest.mark.parametrize(
    "params,fragment",
    [
        ({"$filter": "workspaceId eq 'x'"}, "property 'workspaceId' cannot be filtered on"),
        ({"$filter": "name like 'x'"}, "unknown operator 'like'"),
        ({"$top": "0"}, "'$top' must be between 1 and 1000"),
        ({"$top": "1001"}, "'$top' must be between 1 and 1000"),
        ({"continuationToken": "garbage!"}, "Invalid 'continuationToken' parameter."),
    ],
)
def test_list_rejects_bad_queries_with_422(sandbox, params, fragment):
    with pytest.raises(PermanentError) as err:
        sandbox.client().http.get("/jobs", params=params)
    assert err.value.status == 422 and fragment in err.value.message


def test_patch_transitions_follow_the_state_machine(sandbox):
    """submit once; no settings change, second submit or delete after submission; only active/cancelled settable."""
    client = sandbox.client()
    job = client.create_job(job_spec(_ws(client)))
    jid = job["id"]
    assert job["state"] == "unsubmitted" and job["estimatedCost"] == 2.25
    assert (
        client.patch_job(jid, {"costEstimationParameters": {"gigaPixels": 4.0, "meshQuality": "Extra"}})[
            "estimatedCost"
        ]
        == 6.0
    )
    submitted = client.patch_job(jid, {"state": "active"})
    assert submitted["state"] == "active" and submitted["executionInformation"]["submittedDateTime"]
    for body, fragment in [
        ({"state": "active"}, "Job cannot be submitted: its state is 'active'."),
        ({"state": "success"}, "only 'active' (submit) and 'cancelled' (cancel) can be set"),
        (
            {"settings": {"quality": "Draft", "outputs": ["OBJ"]}},
            "'settings' cannot be modified once the job is active",
        ),
        ({"name": "renamed"}, "Unknown 'name' parameter."),
    ]:
        with pytest.raises(PermanentError) as err:
            client.patch_job(jid, body)
        assert fragment in err.value.message, body
    with pytest.raises(PermanentError, match=re.escape("A job that has been submitted cannot be deleted.")):
        client.http.request("DELETE", f"/jobs/{jid}")
    assert client.patch_job(jid, {"state": "cancelled"})["state"] == "cancelled"
    with pytest.raises(PermanentError, match=re.escape("Job cannot be cancelled: its state is 'cancelled'.")):
        client.patch_job(jid, {"state": "cancelled"})


def test_progress_advances_on_the_accelerated_clock(sandbox):
    """Queued first, then steps with a rising percentage; capitalised state as documented."""
    client = sandbox.client()
    big = {"gigaPixels": 20.0, "meshQuality": "Medium"}  # ~20 simulated hours: ~2 s here
    jid = client.create_job(job_spec(_ws(client), costEstimationParameters=big))["id"]
    client.patch_job(jid, {"state": "active"})
    first = client.progress(jid)
    assert first["state"] == "Active"
    seen = {first["step"]}
    for _ in range(1000):
        time.sleep(0.02)
        p = client.progress(jid)
        seen.add(p["step"])
        if p["state"] == "Success":
            break
    assert p == {"percentage": 100, "state": "Success", "step": "Done"}
    assert {"Aerotriangulation", "Production"} <= seen
    job = client.get_job(jid)
    info = job["executionInformation"]
    assert info["startedDateTime"] and info["endedDateTime"] and info["errors"] is None
    assert all(o["id"] for o in job["jobSettings"]["outputs"])


def test_simulator_state_survives_a_restart(sandbox):
    from skyform.sandbox.simulator import SimulatorOptions
    from skyform_itwin.simulator import ItwinSimulator

    client = sandbox.client()
    jid = client.create_job(job_spec(_ws(client)))["id"]
    again = ItwinSimulator(SimulatorOptions(state_dir=sandbox.tmp / "sim"))
    assert again.objects() == {"workspace": 1, "job": 1}
    assert jid in again.data["jobs"]


def test_input_reality_data_id_is_kept(sandbox):
    client = sandbox.client()
    job = client.create_job(job_spec(_ws(client)))
    assert job["inputs"] == [{"id": INPUT_ID, "description": "Drone ImageCollection"}]


def test_plan_estimate_is_a_cost_when_parameters_are_given(sandbox, job_kind):
    ctx = sandbox.ctx()
    cost = job_kind.estimate_cost(job_spec("ws"), ctx)
    assert (cost.amount, cost.currency) == (2.25, "units")
    spec = job_spec("ws")
    del spec["costEstimationParameters"]
    assert job_kind.estimate_cost(spec, ctx) is None


def test_output_keys_are_expression_paths():
    """Every documented format gets a key the expression language can address."""
    import re

    from skyform_itwin.job_view import output_key
    from skyform_itwin.schemas import FORMATS

    keys = {f: output_key(f) for f in FORMATS}
    assert keys["3MX"] == "_3MX" and keys["Orthophoto/DSM"] == "Orthophoto_DSM" and keys["OBJ"] == "OBJ"
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", k) for k in keys.values())
    assert len(set(keys.values())) == len(FORMATS)


def test_the_tier_rate_limit_answers_429_with_retry_after(sandbox):
    """Past the per-minute tier limit the service answers 429 RateLimitExceeded with Retry-After."""
    client = sandbox.client()
    ws = _ws(client)
    sandbox.sim.rate_per_minute = 3
    client.get_workspace(ws)
    client.get_workspace(ws)
    with pytest.raises(RateLimited) as err:
        client.get_workspace(ws)
    assert 1 <= err.value.retry_after <= 60
    assert "RateLimitExceeded" in err.value.message


def test_progress_is_gone_30_days_after_the_job_but_the_job_still_reads(sandbox, job_kind):
    """After 30 simulated days /progress answers 404; poll falls back to the job itself."""
    from itwin_support import record_for

    client = sandbox.client()
    spec = job_spec(_ws(client))
    ctx = sandbox.ctx(client)
    result = job_kind.create(spec, ctx)
    job = sandbox.sim.data["jobs"][result.remote_id]
    job["_submittedAt"] -= 31 * 86400 / sandbox.sim.clock.factor + 1  # submitted 31 simulated days ago
    assert client.progress(result.remote_id) is None
    assert job_kind.poll(record_for(result, spec, ctx), ctx).status == "ready"


def _raw(sandbox) -> httpx.Client:
    token = httpx.post(
        sandbox.settings["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": sandbox.settings["client_id"],
            "client_secret": sandbox.settings["client_secret"],
            "scope": "itwin-platform",
        },
    ).json()["access_token"]
    return httpx.Client(base_url=sandbox.settings["url"], headers={"Authorization": f"Bearer {token}"})


def test_numbers_and_booleans_sent_as_text_are_bound_like_the_service_does(sandbox):
    """Bentley's SDK sends gigaPixels "2.5" and createCache "True": taken, and answered typed."""
    with _raw(sandbox) as raw:
        body = {
            "type": "Full",
            "name": "text",
            "workspaceId": _ws(sandbox.client()),
            "inputs": [{"id": INPUT_ID}],
            "settings": {
                "quality": "Medium",
                "outputs": ["3MX"],
                "processingEngines": "2",
                "cacheSettings": {"createCache": "True"},
            },
        }
        created = raw.post("/jobs", json=body)
        assert created.status_code == 201, created.text
        job = created.json()["job"]
        assert job["jobSettings"]["processingEngines"] == 2
        assert job["jobSettings"]["cacheSettings"] == {"createCache": True}
        patched = raw.patch(
            f"/jobs/{job['id']}",
            json={"costEstimationParameters": {"gigaPixels": "2.5", "megaPoints": "1.5", "meshQuality": "Extra"}},
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["job"]["costEstimationParameters"] == {
            "gigaPixels": 2.5,
            "megaPoints": 1.5,
            "meshQuality": "Extra",
        }
        assert patched.json()["job"]["estimatedCost"] == 4.12
        refused = raw.patch(f"/jobs/{job['id']}", json={"costEstimationParameters": {"gigaPixels": "lots"}})
        assert refused.status_code == 422
        assert refused.json()["error"]["details"][0]["target"] == "costEstimationParameters.gigaPixels"


def test_estimated_units_is_a_number_even_without_cost_parameters(sandbox):
    """The documented response gives a number; the SDK does float() on it (null crashed it)."""
    client = sandbox.client()
    with _raw(sandbox) as raw:
        body = {
            "type": "Full",
            "name": "units",
            "workspaceId": _ws(client),
            "inputs": [{"id": INPUT_ID}],
            "settings": {"quality": "Draft", "outputs": ["3MX"]},
        }
        job_id = raw.post("/jobs", json=body).json()["job"]["id"]
        assert raw.patch(f"/jobs/{job_id}", json={"state": "active"}).status_code == 200
        units = raw.get(f"/jobs/{job_id}").json()["job"]["executionInformation"]["estimatedUnits"]
        assert units == 0.25  # 0.5 gigapixel for the one input, at the Draft rate
