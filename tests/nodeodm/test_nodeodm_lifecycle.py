"""The nodeodm.Task operations over real HTTP against the simulated node."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from nodeodm_support import KIND, context, images, poll_until_done, record

from skyform.artifacts import Digest
from skyform.errors import AuthError, PermanentError, TransientError
from skyform.providers import Change


def spec_for(mission: Path, **extra):
    return {"name": "a12", "images": images(mission), "options": {"dsm": True, "pc-quality": "low"}, **extra}


def test_full_lifecycle_creates_polls_downloads_and_exposes_products(node, mission):
    """create uploads and returns running; polling ends ready with verified, extracted products."""
    sim, running = node
    spec = spec_for(mission, gcp="gcp.txt", geo="positions.txt")
    ctx = context(running.settings(), mission)
    created = KIND.create(spec, ctx)
    assert created.status == "running" and created.remote_id == ctx.idempotency_key
    assert sim.data["tasks"][created.remote_id]["files"].keys() >= {"gcp_list.txt", "geo.txt", "DJI_0000.JPG"}
    assert sim.data["tasks"][created.remote_id]["imagesCount"] == 3
    done = poll_until_done(record(created, spec, ctx), spec, ctx)
    assert done.status == "ready"
    out = done.outputs
    zip_path = Path(out["all_zip"]["path"])
    assert zip_path.parent == ctx.artifacts_dir and zip_path.name == "all.zip"
    assert hashlib.sha256(zip_path.read_bytes()).hexdigest() == out["all_zip"]["sha256"]
    # stored by skyform's own digest, so a machine without the file fetches and verifies it
    assert out["all_zip"]["artifact"] == f"sha256:{out['all_zip']['sha256']}"
    stored = ctx.artifacts.fetch(Digest.parse(out["all_zip"]["artifact"]), mission / "fetched.zip")
    assert stored.read_bytes() == zip_path.read_bytes()
    assert out["orthophoto"].endswith("odm_orthophoto/odm_orthophoto.tif") and Path(out["orthophoto"]).is_file()
    assert Path(out["dsm"]).read_bytes().startswith(b"II*\x00")
    assert out["dtm"] is None  # no dtm option: no DTM product
    assert Path(out["point_cloud"]).name == "odm_georeferenced_model.laz"
    assert Path(out["textured_model"]).name == "odm_textured_model_geo.obj"
    assert Path(out["report"]).name == "report.pdf"
    assert out["images_count"] == 3 and out["processing_time_ms"] > 0 and out["uuid"] == created.remote_id
    messages = [m for _, m in ctx.reporter.progress_calls]
    assert "uploaded 5/5 files" in " ".join(messages)  # 3 images + gcp + geo, files and bytes
    assert sim.objects() == {"task": 1, "upload": 0}


def test_read_reports_options_as_observed_and_ready_status(node, mission):
    """read mirrors the node: status and the options the task runs with (for drift)."""
    _sim, running = node
    spec = spec_for(mission)
    ctx = context(running.settings(), mission)
    done = poll_until_done(record(KIND.create(spec, ctx), spec, ctx), spec, ctx)
    seen = KIND.read(record(done, spec, ctx), ctx)
    assert seen.status == "ready"
    assert seen.observed["options"] == {"dsm": True, "pc-quality": "low"}
    assert seen.observed["name"] == "a12"


def test_options_change_is_an_update_that_restarts_the_task(node, mission):
    """Changing options restarts the same task with the new options; images are not re-uploaded."""
    sim, running = node
    spec = spec_for(mission)
    ctx = context(running.settings(), mission)
    first = poll_until_done(record(KIND.create(spec, ctx), spec, ctx), spec, ctx)
    changes = [Change(("options", "dtm"), None, True)]
    plan = KIND.plan_change(changes, record(first, spec, ctx))
    assert plan.action == "update" and plan.note == "restart on the node with new options; images stay"
    new_spec = {**spec, "options": {**spec["options"], "dtm": True}}
    restarted = KIND.update(record(first, spec, ctx), new_spec, changes, ctx)
    assert restarted.status == "running" and restarted.remote_id == first.remote_id
    task = sim.data["tasks"][first.remote_id]
    assert task["run"] == 1 and {"name": "dtm", "value": True} in task["options"]
    done = poll_until_done(record(restarted, new_spec, ctx), new_spec, ctx)
    assert done.outputs["dtm"] and Path(done.outputs["dtm"]).is_file()
    assert sim.objects()["task"] == 1


def test_image_change_is_a_replace_with_a_note():
    """Images, extra files, name, outputs, webhook cannot change on a task: replace."""
    plan = KIND.plan_change([Change(("images",), ["a.JPG"], ["b.JPG"]), Change(("options", "dsm"), 1, 0)], None)
    assert plan.action == "replace" and "images cannot change on a NodeODM task" in plan.note


def test_restart_of_a_running_task_cancels_it_first(node, mission):
    """NodeODM refuses to restart a running task, so update cancels before restarting."""
    sim, running = node
    sim.clock.factor = 1  # stays running
    spec = spec_for(mission)
    ctx = context(running.settings(), mission)
    created = KIND.create(spec, ctx)
    new_spec = {**spec, "options": {"dsm": False}}
    result = KIND.update(record(created, spec, ctx), new_spec, [Change(("options", "dsm"), True, False)], ctx)
    assert result.status == "running"
    # restarted, not left canceled (update reads the task back, which may start it)
    assert sim.data["tasks"][created.remote_id]["phase"] in ("queued", "running")


def test_cancel_stops_a_running_task(node, mission):
    """cancel (lifecycle timeout) sends /task/cancel; the node shows CANCELED and poll fails."""
    sim, running = node
    sim.clock.factor = 1
    spec = spec_for(mission)
    ctx = context(running.settings(), mission)
    rec = record(KIND.create(spec, ctx), spec, ctx)
    KIND.cancel(rec, ctx)
    assert sim.data["tasks"][rec.remote_id]["phase"] == "canceled"
    with pytest.raises(PermanentError, match=f"task {rec.remote_id} was canceled on http://127.0.0.1"):
        KIND.poll(rec, ctx)


def test_failed_task_names_error_message_and_last_output_lines(start_node, mission):
    """A FAILED task (job_fate fault) raises PermanentError with errorMessage and the log tail."""
    _sim, running = start_node(faults=[{"provider": "nodeodm", "match": "Task a12", "fault": "job_fail"}])
    spec = spec_for(mission)
    ctx = context(running.settings(), mission)
    created = KIND.create(spec, ctx)
    with pytest.raises(PermanentError) as info:
        poll_until_done(record(created, spec, ctx), spec, ctx)
    message = info.value.message
    assert message.startswith(f"nodeodm: task {created.remote_id} failed on {running.base_url}: Cannot process dataset")
    assert "last output lines:" in message and "could not process this dataset" in message
    assert info.value.remote_id == created.remote_id


def test_delete_removes_the_task_and_keeps_artifacts(node, mission):
    """delete calls /task/remove; the downloaded products stay on disk."""
    sim, running = node
    spec = spec_for(mission)
    ctx = context(running.settings(), mission)
    done = poll_until_done(record(KIND.create(spec, ctx), spec, ctx), spec, ctx)
    KIND.delete(record(done, spec, ctx), ctx)
    assert sim.objects()["task"] == 0
    assert Path(done.outputs["orthophoto"]).is_file() and Path(done.outputs["all_zip"]["path"]).is_file()
    KIND.delete(record(done, spec, ctx), ctx)  # already gone: still fine


def test_read_keeps_a_finished_task_whose_node_cleaned_it_up(node, mission):
    """After the node's 48 h cleanup the task is gone, but the downloaded products still count."""
    sim, running = node
    spec = spec_for(mission)
    ctx = context(running.settings(), mission)
    done = poll_until_done(record(KIND.create(spec, ctx), spec, ctx), spec, ctx)
    del sim.data["tasks"][done.remote_id]
    seen = KIND.read(record(done, spec, ctx), ctx)
    assert seen is not None and seen.status == "ready" and "no longer on the node" in seen.message
    Path(done.outputs["all_zip"]["path"]).unlink()
    assert KIND.read(record(done, spec, ctx), ctx) is None


def test_wrong_token_is_an_auth_error_without_the_token(node, mission):
    """The node's 200 + 'Invalid authentication token' becomes AuthError; no secret in the text."""
    sim, running = node
    settings = {"url": running.base_url, "token": "wrong-token-123456"}
    ctx = context(settings, mission)
    with pytest.raises(AuthError) as info:
        KIND.create(spec_for(mission), ctx)
    assert "Invalid authentication token: token does not match." in info.value.message
    assert "wrong-token-123456" not in info.value.message and "token" in (info.value.hint or "")
    assert sim.objects() == {"task": 0, "upload": 0}


def test_node_rejecting_options_at_create_names_each_option(node, mission):
    """If options slip past plan time, the node's JSON error list is turned into a readable message.

    NodeODM lists the errors in ODM's definition order (feature-quality before dsm).
    """
    _sim, running = node
    ctx = context(running.settings(), mission)
    with pytest.raises(PermanentError) as info:
        KIND.create(spec_for(mission, options={"dsm": "maybe", "feature-quality": "x"}), ctx)
    assert info.value.message == (
        f"nodeodm: init task {ctx.idempotency_key}: the node refused the options: "
        "options.feature-quality: Invalid value x (not in enum); "
        "options.dsm: Cannot convert maybe to boolean"
    )
    assert info.value.field == "options"


def test_tokens_are_registered_for_redaction_and_never_in_messages(mission):
    """connect() registers every node token; errors against an unreachable node do not show it."""
    from skyform import redact

    token, other = "tok-first-node-5531", "tok-second-node-8812"
    settings = {
        "nodes": [{"url": "http://127.0.0.1:9", "token": token}, {"url": "http://127.0.0.1:9/", "token": other}]
    }
    ctx = context(settings, mission)
    assert redact.redact(f"{token} {other}") == "*** ***"
    with pytest.raises(TransientError) as info:  # retried by the engine: the nodes may come back
        KIND.create(spec_for(mission), ctx)
    assert token not in str(info.value) and other not in str(info.value)
    assert "127.0.0.1:9/info" in str(info.value)


def test_options_change_after_the_node_cleaned_the_task_up_uploads_again_under_the_same_uuid(node, mission):
    """A finished task removed by the node (48 h) cannot restart: update re-creates it, same uuid."""
    sim, running = node
    spec = spec_for(mission)
    ctx = context(running.settings(), mission)
    done = poll_until_done(record(KIND.create(spec, ctx), spec, ctx), spec, ctx)
    del sim.data["tasks"][done.remote_id]
    new_spec = {**spec, "options": {"dsm": True, "dtm": True}}
    again = KIND.update(record(done, spec, ctx), new_spec, [Change(("options", "dtm"), None, True)], ctx)
    assert again.remote_id == done.remote_id and "uploaded again" in again.message
    assert sim.data["tasks"][done.remote_id]["imagesCount"] == 3
    assert poll_until_done(record(again, new_spec, ctx), new_spec, ctx).outputs["dtm"]


def test_read_of_a_completed_task_without_local_products_is_running_until_polled(node, mission):
    """Ready means COMPLETED and downloaded: a task known only by uuid (import) still needs a poll."""
    _sim, running = node
    spec = spec_for(mission)
    ctx = context(running.settings(), mission)
    done = poll_until_done(record(KIND.create(spec, ctx), spec, ctx), spec, ctx)
    bare = dataclasses.replace(record(done, spec, ctx), outputs={}, private={})
    seen = KIND.read(bare, ctx)
    assert seen.status == "running"
    fetched = KIND.poll(bare, ctx)
    assert fetched.status == "ready" and Path(fetched.outputs["orthophoto"]).is_file()
