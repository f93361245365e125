"""The itwin.Job and itwin.Workspace lifecycles over real HTTP against the simulator."""

from __future__ import annotations

import pytest
from itwin_support import job_spec, poll_until_done, record_for

from skyform.errors import AdoptError, BudgetExceeded, PermanentError


def _workspace(sandbox, workspace_kind, name="a12") -> str:
    ctx = sandbox.ctx(address="resources.ws")
    return workspace_kind.create({"name": name}, ctx).remote_id


def test_full_lifecycle_submits_polls_and_reports_reality_data_ids(sandbox, job_kind, workspace_kind):
    """create -> estimate -> submit -> progress -> success with one reality-data id per format."""
    ws = _workspace(sandbox, workspace_kind)
    spec = job_spec(ws)
    ctx = sandbox.ctx()
    result = job_kind.create(spec, ctx)
    assert result.status == "running"
    assert result.outputs["state"] == "active"
    assert result.outputs["estimatedCost"] == 2.25  # 2 GPix x 1.0 + 1 MPts x 0.25
    assert result.cost is not None and result.cost.amount == 2.25
    done = poll_until_done(job_kind, result, spec, ctx)
    assert done.status == "ready"
    assert done.outputs["state"] == "success"
    assert set(done.outputs["outputs"]) == {"OBJ", "Cesium 3D Tiles"}
    assert all(done.outputs[f] for f in ("OBJ", "Cesium 3D Tiles"))
    assert done.outputs["Cesium_3D_Tiles"] == done.outputs["Cesium 3D Tiles"]
    assert done.outputs["ids"] == [done.outputs["OBJ"], done.outputs["Cesium 3D Tiles"]]
    assert sandbox.sim.objects() == {"workspace": 1, "job": 1}


def test_progress_polls_follow_the_documented_backoff(sandbox, job_kind, workspace_kind):
    """poll_after climbs 15,30,60,120 (scaled) while the percentage stands still, then restarts."""
    from skyform_itwin.job_view import next_poll

    backoff = (15.0, 30.0, 60.0, 120.0)
    delays, memory = [], None
    for pct in (0, 0, 0, 0, 0, 5, 5):
        delay, memory = next_poll(backoff, memory, pct)
        delays.append(delay)
    assert delays == [15.0, 30.0, 60.0, 120.0, 120.0, 15.0, 30.0]
    assert sandbox.settings["poll_backoff"][0] < 15.0  # compressed by the sandbox clock


def test_failed_job_surfaces_execution_errors(sandbox, job_kind, workspace_kind):
    """A job_fail fault makes the job fail; the error names the executionInformation error."""
    sandbox.faults([{"fault": "job_fail", "match": "Job Doomed"}])
    ws = _workspace(sandbox, workspace_kind)
    spec = job_spec(ws, name="Doomed")
    ctx = sandbox.ctx()
    result = job_kind.create(spec, ctx)
    with pytest.raises(PermanentError) as err:
        poll_until_done(job_kind, result, spec, ctx)
    assert (
        "failed: Aerotriangulation failed [AerotriangulationFailed]: Aerotriangulation failed: too few tie points"
        in err.value.message
    )
    assert err.value.remote_id == result.remote_id


def test_warnings_are_reported_on_success(sandbox, job_kind, workspace_kind):
    """executionInformation.warnings reach ctx.reporter.warn."""
    ws = _workspace(sandbox, workspace_kind)
    spec = job_spec(ws, settings={"quality": "Draft", "processingEngines": 50, "outputs": ["OBJ"]})
    ctx = sandbox.ctx()
    poll_until_done(job_kind, job_kind.create(spec, ctx), spec, ctx)
    assert any("50 engines were requested; the job is limited to 20" in w for w in ctx.reporter.warnings)


def test_budget_refusal_leaves_the_job_unsubmitted(sandbox, job_kind, workspace_kind):
    """An estimate above lifecycle.max_cost stops before submission, with the estimate and the job id."""
    ws = _workspace(sandbox, workspace_kind)
    spec = job_spec(ws)
    ctx = sandbox.ctx(lifecycle={"max_cost": 2})
    with pytest.raises(BudgetExceeded) as err:
        job_kind.create(spec, ctx)
    job_id = err.value.remote_id
    assert job_id
    assert f"iTwin estimates job {job_id} at 2.25 units, above lifecycle.max_cost (2.00)" in err.value.message
    assert "NOT submitted" in err.value.message
    assert sandbox.client().get_job(job_id)["state"] == "unsubmitted"


def test_provider_budget_also_refuses(sandbox, job_kind, workspace_kind):
    """The provider-level budget applies to every job."""
    ws = _workspace(sandbox, workspace_kind)
    ctx = sandbox.ctx(sandbox.client(budget=1.5))
    with pytest.raises(BudgetExceeded, match=r"above the itwin provider budget \(1.50\)"):
        job_kind.create(job_spec(ws), ctx)


def test_within_budget_is_submitted(sandbox, job_kind, workspace_kind):
    ws = _workspace(sandbox, workspace_kind)
    ctx = sandbox.ctx(sandbox.client(budget=10), lifecycle={"max_cost": 3})
    assert job_kind.create(job_spec(ws), ctx).status == "running"


def test_cancel_on_timeout_cancels_the_running_job(sandbox, job_kind, workspace_kind):
    """cancel() PATCHes state cancelled; the job then reads as cancelled."""
    sandbox.faults([{"fault": "job_stuck", "match": "Job Stuck"}])
    ws = _workspace(sandbox, workspace_kind)
    spec = job_spec(ws, name="Stuck")
    ctx = sandbox.ctx()
    result = job_kind.create(spec, ctx)
    record = record_for(result, spec, ctx)
    job_kind.cancel(record, ctx)
    assert sandbox.client().get_job(result.remote_id)["state"] == "cancelled"
    with pytest.raises(PermanentError, match="was cancelled"):
        job_kind.poll(record, ctx)


def test_destroy_cancels_running_and_deletes_unsubmitted(sandbox, job_kind, workspace_kind):
    """delete: a running job is cancelled (it cannot be deleted), an unsubmitted one is deleted."""
    sandbox.faults([{"fault": "job_stuck", "match": "Job Run"}])  # still running when deleted
    ws = _workspace(sandbox, workspace_kind)
    ctx = sandbox.ctx()
    running = job_kind.create(job_spec(ws, name="Run"), ctx)
    job_kind.delete(record_for(running, job_spec(ws), ctx), ctx)
    assert sandbox.client().get_job(running.remote_id)["state"] == "cancelled"
    with pytest.raises(BudgetExceeded) as err:
        job_kind.create(job_spec(ws, name="Pricey"), sandbox.ctx(lifecycle={"max_cost": 0.5}))
    unsubmitted = err.value.remote_id
    from skyform.providers import Result

    job_kind.delete(record_for(Result(remote_id=unsubmitted), job_spec(ws), ctx), ctx)
    assert sandbox.client().get_job(unsubmitted) is None


def test_unsubmitted_job_is_patched_then_submitted(sandbox, job_kind, workspace_kind):
    """Before submission a settings change is an update: PATCH, re-estimate, submit."""
    from skyform.providers import Change, Result

    ws = _workspace(sandbox, workspace_kind)
    spec = job_spec(ws)
    with pytest.raises(BudgetExceeded) as err:
        job_kind.create(spec, sandbox.ctx(lifecycle={"max_cost": 2}))
    ctx = sandbox.ctx(lifecycle={"max_cost": 2})
    record = record_for(
        Result(remote_id=err.value.remote_id, status="failed", outputs={"state": "unsubmitted"}), spec, ctx
    )
    changes = [Change(("costEstimationParameters", "meshQuality"), "Medium", "Draft")]
    assert job_kind.plan_change(changes, record).action == "update"
    cheaper = job_spec(
        ws,
        settings={"quality": "Draft", "outputs": ["OBJ"]},
        costEstimationParameters={"gigaPixels": 2.0, "meshQuality": "Draft"},
    )
    result = job_kind.update(record, cheaper, changes, ctx)
    assert result.status == "running" and result.outputs["estimatedCost"] == 1.0
    submitted = record_for(result, cheaper, ctx)
    assert job_kind.plan_change(changes, submitted).action == "replace"


def test_adopt_finds_the_job_a_crashed_apply_created(sandbox, job_kind, workspace_kind):
    """adopt lists jobs by name created after the intent (workspace compared client-side) and submits."""
    ws = _workspace(sandbox, workspace_kind)
    spec = job_spec(ws)
    ctx = sandbox.ctx()
    created = sandbox.client().create_job(spec)  # the crash came right after POST /jobs
    adopted = job_kind.adopt(spec, ctx)
    assert adopted is not None and adopted.remote_id == created["id"]
    assert adopted.status == "running"
    assert sandbox.sim.objects()["job"] == 1


def test_adopt_ignores_jobs_created_before_the_intent(sandbox, job_kind, workspace_kind):
    """A same-named job older than the intent (of the intent) is not ours."""
    import time

    ws = _workspace(sandbox, workspace_kind)
    sandbox.client().create_job(job_spec(ws))
    assert job_kind.adopt(job_spec(ws), sandbox.ctx(intent_at=time.time() + 10)) is None


def test_adopt_ignores_same_named_jobs_of_other_workspaces(sandbox, job_kind, workspace_kind):
    """workspaceId cannot be filtered on ($filter documents no such property): compared client-side."""
    ws = _workspace(sandbox, workspace_kind)
    other = _workspace(sandbox, workspace_kind, "other")
    sandbox.client().create_job(job_spec(other))
    assert job_kind.adopt(job_spec(ws), sandbox.ctx(intent_at=0)) is None


def test_adopt_refuses_to_guess_between_two_jobs(sandbox, job_kind, workspace_kind):
    ws = _workspace(sandbox, workspace_kind)
    a = sandbox.client().create_job(job_spec(ws))["id"]
    b = sandbox.client().create_job(job_spec(ws))["id"]
    with pytest.raises(AdoptError) as err:
        job_kind.adopt(job_spec(ws), sandbox.ctx(intent_at=0))
    assert sorted(err.value.candidates) == sorted([a, b])


def test_retried_create_does_not_make_a_second_job(sandbox, job_kind, workspace_kind):
    """A create retried after a transient failure finds its own job instead of posting again."""
    ws = _workspace(sandbox, workspace_kind)
    spec = job_spec(ws)
    ctx = sandbox.ctx()
    sandbox.faults([{"fault": "status", "status": 503, "match": "PATCH /contextcapture/jobs/", "times": 1}])
    from skyform.errors import TransientError

    with pytest.raises(TransientError) as err:
        job_kind.create(spec, ctx)
    assert err.value.remote_id
    result = job_kind.create(spec, ctx)
    assert result.remote_id == err.value.remote_id
    assert sandbox.sim.objects()["job"] == 1


def test_read_reports_observed_spec_and_disappearance(sandbox, job_kind, workspace_kind):
    ws = _workspace(sandbox, workspace_kind)
    spec = job_spec(ws)
    ctx = sandbox.ctx()
    result = job_kind.create(spec, ctx)
    seen = job_kind.read(record_for(result, spec, ctx), ctx)
    assert seen.observed == spec
    from skyform.providers import Result

    assert job_kind.read(record_for(Result(remote_id="0000"), spec, ctx), ctx) is None


def test_workspace_create_read_delete(sandbox, workspace_kind):
    ctx = sandbox.ctx(address="resources.ws")
    made = workspace_kind.create({"name": "a12", "iTwinId": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}, ctx)
    assert made.outputs["id"] == made.remote_id and made.outputs["name"] == "a12"
    record = record_for(made, {"name": "a12"}, ctx, "resources.ws")
    assert workspace_kind.read(record, ctx).outputs == made.outputs
    workspace_kind.delete(record, ctx)
    assert workspace_kind.read(record, ctx) is None
    workspace_kind.delete(record, ctx)  # already gone: nothing to do


def test_workspace_adopt_refuses_because_the_api_cannot_list(sandbox, workspace_kind):
    with pytest.raises(AdoptError, match="no way to list workspaces"):
        workspace_kind.adopt({"name": "a12"}, sandbox.ctx())


def test_workspace_adopt_error_names_the_next_step(sandbox, workspace_kind):
    """As the other providers' AdoptErrors do, the hint names the commands that resolve it."""
    with pytest.raises(AdoptError) as refused:
        workspace_kind.adopt({"name": "a12"}, sandbox.ctx(address="ws"))
    assert "`skyform import ws <workspace id>`" in refused.value.hint
    assert "`skyform state rm ws`" in refused.value.hint


def test_two_resources_with_one_job_name_do_not_share_a_job(sandbox, job_kind, workspace_kind):
    """Within one run, a second resource's create must not adopt the job the first one just made."""
    ws = _workspace(sandbox, workspace_kind)
    client = sandbox.client()
    first_ctx = sandbox.ctx(client, address="resources.a")
    second_ctx = sandbox.ctx(client, address="resources.b", intent_at=first_ctx.intent_at)
    first = job_kind.create(job_spec(ws), first_ctx)
    second = job_kind.create(job_spec(ws), second_ctx)
    assert first.remote_id != second.remote_id
    assert sandbox.sim.objects()["job"] == 2


def test_a_finished_jobs_outputs_are_downloaded_into_the_artifact_store(sandbox, job_kind, workspace_kind):
    """The poll that sees success reads each format's reality data (read access, a SAS
    container listed page by page) and stores every file by its sha256, verified on read;
    the SAS signature never reaches the outputs."""
    import hashlib

    from skyform.artifacts import Digest
    from skyform_itwin.simulator.reality import FILES_BY_FORMAT, blob_bytes

    ws = _workspace(sandbox, workspace_kind)
    spec = job_spec(ws)
    ctx = sandbox.ctx()
    done = poll_until_done(job_kind, job_kind.create(spec, ctx), spec, ctx)
    results = done.outputs["results"]
    assert set(results) == {"OBJ", "Cesium 3D Tiles"}
    for fmt, stored in results.items():
        rid = done.outputs["outputs"][fmt]
        assert stored["reality_data_id"] == rid
        assert [f["name"] for f in stored["files"]] == list(FILES_BY_FORMAT[fmt])
        for entry in stored["files"]:
            expected = blob_bytes(rid, fmt, entry["name"])
            assert entry["sha256"] == hashlib.sha256(expected).hexdigest() and entry["bytes"] == len(expected)
            assert entry["artifact"] == f"sha256:{entry['sha256']}"
            with ctx.artifacts.open(Digest.parse(entry["artifact"])) as fh:  # verified while read
                assert fh.read() == expected
    assert "sig=" not in repr(done.outputs)
    record = record_for(done, spec, ctx)
    again = job_kind.read(record, ctx)
    assert again is not None and again.outputs["results"] == results  # a refresh keeps them referenced
