"""The apply scheduler: order, failure handling, retries, timeouts, detach.

Runs through the CLI in-process against the fake simulator; events come from `--json`.
Faults are simulator fault rules in SKYFORM_SANDBOX_FAULTS. Signals and SIGKILL are in
test_interrupts.py.
"""

from __future__ import annotations

import json
import time


def events(ran, kind="transition"):
    return [e for e in ran.json_lines() if e.get("event") == kind]


def starts(ran):
    """Addresses in the order their first create/update/delete started."""
    seen = []
    for e in events(ran):
        if e["after"] in ("creating", "updating", "deleting") and e["address"] not in seen:
            seen.append(e["address"])
    return seen


def apply(ws, *flags):
    return ws.run("apply", "--sandbox", "--auto-approve", "--json", *flags, ws.path)


def faults(monkeypatch, *rules):
    monkeypatch.setenv("SKYFORM_SANDBOX_FAULTS", json.dumps(list(rules)))


DIAMOND = """
    resources:
      top: {type: fake.Thing, spec: {name: top}}
      left: {type: fake.Thing, spec: {name: "${{ resources.top.outputs.name }}-l"}}
      right: {type: fake.Thing, spec: {name: r}, depends_on: [top]}
      bottom: {type: fake.Thing, spec: {name: "${{ resources.left.outputs.name }}-b"}, depends_on: [right]}
      lone: {type: fake.Thing, spec: {name: lone}}
"""


def test_dependents_start_after_their_dependencies_are_ready(ws):
    """No node starts before every dependency reached `ready` (references and depends_on alike)."""
    ws.write(DIAMOND)
    ran = apply(ws)
    assert ran.code == 0, str(ran)
    t = events(ran)
    ready = {e["address"]: i for i, e in enumerate(t) if e["after"] == "ready"}
    start = {e["address"]: i for i, e in enumerate(t) if e["after"] == "creating"}
    for node, deps in {"left": ["top"], "right": ["top"], "bottom": ["left", "right"]}.items():
        for dep in deps:
            assert ready[dep] < start[node], (node, dep, t)
    names = sorted(o["name"] for o in ws.remote_objects())
    assert names == ["lone", "r", "top", "top-l", "top-l-b"]


def test_order_is_deterministic_and_ties_follow_spec_order(ws):
    """With one worker the start order is the same on every run, and nodes that become ready together
    start in spec order (left before right)."""
    ws.write(DIAMOND)
    orders = []
    for _ in range(2):
        ran = apply(ws, "--parallelism", "1")
        assert ran.code == 0, str(ran)
        orders.append(starts(ran))
        assert ws.run("destroy", "--sandbox", "--auto-approve", ws.path).code == 0
    assert orders[0] == orders[1]
    order = orders[0]
    assert sorted(order) == ["bottom", "left", "lone", "right", "top"]
    assert order.index("top") < order.index("left") < order.index("right") < order.index("bottom")


def test_failure_skips_dependents_and_independent_branch_finishes(ws):
    """A failed node skips its dependents; the other branch is applied; exit 1 names the failure."""
    ws.write("""
        resources:
          bad: {type: fake.Thing, spec: {name: bad, create_error: 400}}
          child: {type: fake.Thing, spec: {name: child}, depends_on: [bad]}
          grandchild: {type: fake.Thing, spec: {name: "${{ resources.child.outputs.name }}-g"}}
          other: {type: fake.Thing, spec: {name: other}}
          other2: {type: fake.Thing, spec: {name: "${{ resources.other.outputs.name }}-2"}}
    """)
    ran = apply(ws).clean()
    assert ran.code == 1, str(ran)
    skipped = {e["address"]: e["reason"] for e in events(ran, "skipped")}
    assert skipped == {"child": "bad did not finish", "grandchild": "child did not finish"}
    (summary,) = events(ran, "summary")
    assert summary["done"] == 2 and list(summary["failed"]) == ["bad"]
    assert sorted(o["name"] for o in ws.remote_objects()) == ["other", "other-2"]
    assert "Error: 1 resource(s) failed: bad:" in ran.err
    text = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert "child: Skipped (bad did not finish)" in text.out
    assert "bad (fake.Thing) will be created  # the previous create failed" in text.out
    # the second run changed nothing (other, other2 were up to date): only what changed is counted
    assert (
        "Apply finished with errors: Resources: 0 created, 0 updated, 0 replaced, 0 deleted, 1 failed, 2 skipped."
        in text.out
    )


def test_on_failure_continue_lets_dependents_run(ws):
    """`lifecycle.on_failure: continue`: the failed node's dependents are applied anyway."""
    ws.write("""
        resources:
          bad: {type: fake.Thing, spec: {name: bad, create_error: 400}, lifecycle: {on_failure: continue}}
          child: {type: fake.Thing, spec: {name: child}, depends_on: [bad]}
    """)
    ran = apply(ws)
    assert ran.code == 1, str(ran)
    assert events(ran, "skipped") == []
    assert [o["name"] for o in ws.remote_objects()] == ["child"]


def test_fail_fast_stops_dispatching_at_the_first_failure(ws):
    """`--fail-fast`: after the first failure nothing new starts (exit 1, the rest skipped)."""
    ws.write("""
        resources:
          bad: {type: fake.Thing, spec: {name: bad, create_error: 400}}
          later1: {type: fake.Thing, spec: {name: later1}}
          later2: {type: fake.Thing, spec: {name: later2}}
    """)
    ran = apply(ws, "--fail-fast", "--parallelism", "1").clean()
    assert ran.code == 1, str(ran)
    (summary,) = events(ran, "summary")
    assert list(summary["failed"]) == ["bad"] and sorted(summary["skipped"]) == ["later1", "later2"]
    assert ws.remote_objects() == []
    # without --fail-fast the independent nodes are applied
    ran = apply(ws, "--parallelism", "1")
    assert ran.code == 1
    assert sorted(o["name"] for o in ws.remote_objects()) == ["later1", "later2"]


def test_permanent_error_fails_at_once_without_retries(ws):
    """A 400 from the service is permanent: no retry, the node fails with the service's message."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a, create_error: 400}}\n")
    started = time.monotonic()
    ran = apply(ws).clean()
    assert ran.code == 1, str(ran)
    assert events(ran, "retry") == []
    (failed,) = [e for e in events(ran) if e["after"] == "failed"]
    assert "400" in failed["error"] or "rejected by the fake service" in failed["error"]
    assert time.monotonic() - started < 5
    assert ws.records()["a"].status == "failed"


def test_retry_after_is_honoured_then_the_create_succeeds(ws, monkeypatch):
    """A 429 with Retry-After: 1 on the first create: apply waits about 1 s, retries, creates once."""
    faults(
        monkeypatch,
        {
            "provider": "fake",
            "match": "^POST /objects$",
            "fault": "status",
            "status": 429,
            "retry_after": 1,
            "times": 1,
        },
    )
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    ran = apply(ws)
    assert ran.code == 0, str(ran)
    (retry,) = events(ran, "retry")
    assert retry["retry_after"] == 1 and retry["attempt"] == 1
    t = events(ran)
    first = next(e["ts"] for e in t if e["after"] == "creating")
    done = next(e["ts"] for e in t if e["after"] == "ready")
    assert 0.9 <= done - first < 3.0, done - first
    assert ws.remote()["creates"] == 1 and len(ws.remote_objects()) == 1
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path).code == 0


def test_retries_are_bounded_by_lifecycle_retries(ws, monkeypatch):
    """A create that keeps getting 503 is tried 1 + lifecycle.retries times, then fails (exit 1)."""
    faults(monkeypatch, {"provider": "fake", "match": "^POST /objects$", "fault": "status", "status": 503})
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}, lifecycle: {retries: 2}}\n")
    ran = apply(ws).clean()
    assert ran.code == 1, str(ran)
    assert [e["attempt"] for e in events(ran, "retry")] == [1, 2]
    (failed,) = [e for e in events(ran) if e["after"] == "failed"]
    assert "503" in failed["error"]
    assert ws.remote_objects() == []


def test_transient_errors_with_default_retries_recover(ws, monkeypatch):
    """Two dropped/5xx answers (fewer than the default 3 retries) are absorbed: apply succeeds once."""
    faults(monkeypatch, {"provider": "fake", "match": "^POST /objects$", "fault": "status", "status": 502, "times": 2})
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    ran = apply(ws)
    assert ran.code == 0, str(ran)
    assert len(events(ran, "retry")) == 2
    assert ws.remote()["creates"] == 1


def test_timeout_cancels_a_stuck_job(ws):
    """`lifecycle.timeout: 10m` on a job that never finishes: it is cancelled remotely and fails
    (service time: 1 s at the tests' sandbox clock of 600)."""
    ws.write("""
        resources:
          j: {type: fake.Job, spec: {name: j, stuck: true}, lifecycle: {timeout: 10m}}
          after: {type: fake.Thing, spec: {name: after}, depends_on: [j]}
    """)
    started = time.monotonic()
    ran = apply(ws).clean()
    elapsed = time.monotonic() - started
    assert ran.code == 1, str(ran)
    (failed,) = [e for e in events(ran) if e["after"] == "failed"]
    assert failed["address"] == "j"
    assert "timed out after 10m; the remote job was cancelled" in failed["error"]
    assert 1.0 <= elapsed < 6
    (job,) = [o for o in ws.remote_objects() if o["kind"] == "job"]
    assert job["state"] == "cancelled"
    assert [e["address"] for e in events(ran, "skipped")] == ["after"]


def test_remote_job_failure_fails_the_node(ws):
    """A job the service reports as failed fails its node with the remote message."""
    ws.write("resources:\n  j: {type: fake.Job, spec: {name: j, duration: 5, fail: true}}\n")
    ran = apply(ws).clean()
    assert ran.code == 1, str(ran)
    failed = [e for e in events(ran) if e["after"] == "failed"]
    assert failed and "remote job failed" in failed[-1]["error"]
    assert ws.records()["j"].status == "failed"
    # the next plan replaces the failed job
    again = ws.run("plan", "--sandbox", "--json", ws.path)
    (plan,) = events(again, "plan")
    assert plan["actions"][0]["action"] == "replace"


def test_long_job_reports_progress_and_becomes_ready(ws):
    """A running job is polled on the scheduler's timer until ready; its dependents then start."""
    ws.write("""
        resources:
          j: {type: fake.Job, spec: {name: j, duration: 300}}
          next: {type: fake.Thing, spec: {name: "${{ resources.j.outputs.id }}"}}
    """)
    ran = apply(ws)
    assert ran.code == 0, str(ran)
    t = events(ran)
    assert [e["after"] for e in t if e["address"] == "j"] == ["creating", "running", "ready"]
    assert any(e.get("address") == "j" for e in events(ran, "progress"))
    job = next(o for o in ws.remote_objects() if o["kind"] == "job")
    assert next(o for o in ws.remote_objects() if o["kind"] == "thing")["name"] == job["id"]


def test_detach_then_status_then_apply_waits(ws):
    """`apply --detach` returns while the job runs; `status` shows it; `apply` again waits for it."""
    ws.write("""
        resources:
          j: {type: fake.Job, spec: {name: j, duration: 900}}
          after: {type: fake.Thing, spec: {name: after}, depends_on: [j]}
    """)
    ran = ws.run("apply", "--sandbox", "--auto-approve", "--detach", ws.path)
    assert ran.code == 0, str(ran)
    assert "1 remote job(s) still running: `skyform status` shows them" in ran.out
    status = ws.run("status", ws.path)
    assert status.code == 0
    assert "j " in status.out and "running" in status.out
    assert "1 remote job(s) running (polled at " in status.out and "`skyform apply` waits for them" in status.out
    st = json.loads(ws.run("status", "--json", ws.path).out)
    assert {r["address"]: r["status"] for r in st["resources"]} == {"j": "running"}
    plan = ws.run("plan", "--sandbox", "--json", ws.path)
    (p,) = events(plan, "plan")
    assert {a["address"]: a["action"] for a in p["actions"]} == {"j": "resume", "after": "create"}
    ran = apply(ws)
    assert ran.code == 0, str(ran)
    assert ws.remote()["creates"] == 2
    assert {r.address: r.status for r in ws.records().values()} == {"j": "ready", "after": "ready"}


def test_parallelism_bounds_concurrent_calls(ws, monkeypatch):
    """`--parallelism 2` never has more than two provider calls in flight."""
    faults(monkeypatch, {"provider": "fake", "match": "^POST /objects$", "fault": "latency", "delay": 0.15})
    ws.write("resources:\n" + "".join(f"  r{i}: {{type: fake.Thing, spec: {{name: r{i}}}}}\n" for i in range(6)))
    ran = apply(ws, "--parallelism", "2")
    assert ran.code == 0, str(ran)
    inflight = peak = 0
    for e in events(ran):
        if e["after"] == "creating":
            inflight += 1
        elif e["after"] == "ready":
            inflight -= 1
        peak = max(peak, inflight)
    assert peak == 2


def test_a_failed_remote_job_is_reported_once_with_its_message(ws):
    """One failure is one `failed` transition event (and one "Failed" line) carrying the message."""
    ws.write("resources:\n  j: {type: fake.Job, spec: {name: j, duration: 300, fail: true}}\n")
    ran = apply(ws)
    failed = [e for e in events(ran) if e["after"] == "failed"]
    assert len(failed) == 1 and failed[0].get("error") == "remote job failed", failed


def test_provider_parallelism_limit_caps_concurrency(ws, monkeypatch):
    """A provider's declared parallelism (fake: 8) caps its calls even when --parallelism is higher."""
    faults(monkeypatch, {"provider": "fake", "match": "^POST /objects$", "fault": "latency", "delay": 0.2})
    ws.write("resources:\n" + "".join(f"  r{i}: {{type: fake.Thing, spec: {{name: r{i}}}}}\n" for i in range(12)))
    ran = apply(ws, "--parallelism", "20")
    assert ran.code == 0, str(ran)
    inflight = peak = 0
    for e in events(ran):
        inflight += {"creating": 1, "ready": -1}.get(e["after"], 0)
        peak = max(peak, inflight)
    assert peak == 8


def test_transient_poll_errors_are_retried_while_waiting(ws, monkeypatch):
    """503s while polling a running job are retried on the timer; the job still ends ready."""
    faults(monkeypatch, {"provider": "fake", "match": "^GET /objects/", "fault": "status", "status": 503, "times": 3})
    ws.write("resources:\n  j: {type: fake.Job, spec: {name: j, duration: 120}}\n")
    ran = apply(ws)
    assert ran.code == 0, str(ran)
    assert len(events(ran, "retry")) == 3
    assert ws.records()["j"].status == "ready"


def test_polls_failing_past_their_retries_keep_the_job_for_the_next_apply(ws, monkeypatch):
    """A service that keeps failing the look at a running job fails the apply, not the job: the
    record stays running and the next apply polls the same job (no second, paid, job)."""
    faults(monkeypatch, {"provider": "fake", "match": "^GET /objects/", "fault": "status", "status": 503, "times": 40})
    ws.write("resources:\n  j: {type: fake.Job, spec: {name: j, duration: 120}}\n")
    ran = apply(ws)
    assert ran.code != 0, str(ran)
    assert ws.records()["j"].status == "running" and "503" in (ws.records()["j"].error or "")
    monkeypatch.delenv("SKYFORM_SANDBOX_FAULTS", raising=False)
    again = apply(ws)
    assert again.code == 0, str(again)
    assert ws.records()["j"].status == "ready" and len(ws.remote_objects()) == 1


def test_dropped_connection_on_create_is_retried_without_a_duplicate(ws, monkeypatch):
    """A dropped connection on create is transient: the retry adopts first, so one object exists."""
    faults(monkeypatch, {"provider": "fake", "match": "^POST /objects$", "fault": "drop", "times": 1})
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    ran = apply(ws)
    assert ran.code == 0, str(ran)
    assert len(events(ran, "retry")) == 1
    assert len(ws.remote_objects()) == 1


def test_dependents_start_without_waiting_for_unrelated_slow_work(ws):
    """No generation barrier: a chain x -> y -> z finishes while an unrelated remote job is still running."""
    ws.write("""
        resources:
          job: {type: fake.Job, spec: {name: job, duration: 900}}
          x: {type: fake.Thing, spec: {name: x}}
          y: {type: fake.Thing, spec: {name: "${{ resources.x.outputs.name }}-y"}}
          z: {type: fake.Thing, spec: {name: "${{ resources.y.outputs.name }}-z"}}
    """)
    ran = apply(ws)
    assert ran.code == 0, str(ran)
    ready = {e["address"]: e["ts"] for e in events(ran) if e["after"] == "ready"}
    assert ready["z"] < ready["job"]


def test_timeout_counts_from_submission_across_a_detached_run(ws):
    """A job submitted with --detach keeps its deadline: the next apply, after the timeout, cancels it at once."""
    ws.write("resources:\n  j: {type: fake.Job, spec: {name: j, stuck: true}, lifecycle: {timeout: 1s}}\n")
    assert ws.run("apply", "--sandbox", "--auto-approve", "--detach", ws.path).code == 0
    time.sleep(1.2)
    started = time.monotonic()
    ran = apply(ws).clean()
    assert ran.code == 1, str(ran)
    assert time.monotonic() - started < 3
    assert "timed out after 1s" in ran.err
    (job,) = ws.remote_objects()
    assert job["state"] == "cancelled"


def test_transient_error_on_cancel_retries_the_cancel_not_the_create(ws, monkeypatch):
    """A 503 on the timeout's cancel call is retried as a cancel: one job, cancelled, still recorded."""
    faults(monkeypatch, {"provider": "fake", "match": "/cancel$", "fault": "status", "status": 503, "times": 1})
    ws.write("resources:\n  j: {type: fake.Job, spec: {name: j, stuck: true}, lifecycle: {timeout: 1s}}\n")
    ran = apply(ws)
    assert ran.code == 1, str(ran)
    jobs = ws.remote_objects()
    assert [o["state"] for o in jobs] == ["cancelled"], jobs
    assert ws.records()["j"].remote_id == jobs[0]["id"]


def test_job_that_finished_while_detached_is_not_cancelled_by_a_late_apply(ws):
    """A detached job that completed within its timeout is ready on the next apply, even if that apply comes later."""
    ws.write("resources:\n  j: {type: fake.Job, spec: {name: j, duration: 300}, lifecycle: {timeout: 1s}}\n")
    assert ws.run("apply", "--sandbox", "--auto-approve", "--detach", ws.path).code == 0
    time.sleep(1.2)  # the job took 0.5 s; we come back after the timeout
    ran = apply(ws)
    assert ran.code == 0, str(ran)
    assert ws.remote_objects()[0]["state"] == "done"
    assert ws.records()["j"].status == "ready"


def test_polls_that_see_nothing_move_write_no_state(ws):
    """A job polled many times writes its row when its status moves, not once per poll (issue 16):
    the state's serial counts the transactions, the reporter's progress events the polls."""
    ws.write("""
        resources:
          j: {type: fake.Job, spec: {name: j, duration: 1200}}
    """)
    ran = apply(ws)  # 2 s of polls (every 0.05 s, backing off to 0.2 s): about ten
    assert ran.code == 0, str(ran)
    polls = len([e for e in events(ran, "progress") if e.get("address") == "j"])
    assert [e["after"] for e in events(ran) if e["address"] == "j"] == ["creating", "running", "ready"]
    serial = ws.store().mission("mission").serial
    # apply started, the intent, running, ready, apply finished: whatever the number of polls
    assert polls >= 5, polls
    assert serial <= 5, (serial, polls)


def test_the_walk_waits_for_a_slot_instead_of_spinning(ws, monkeypatch):
    """Polls overdue while every slot is busy: the walk sleeps until a call returns.

    It used to wake for the overdue timer it could not fire - ``inbox.get(timeout=0)`` in a
    loop, a core burnt for as long as the pool stayed full (thousands of loop turns per poll
    here; a handful now). Counted in loop turns, not timed.
    """
    from skyform.apply.scheduler import Scheduler

    turns = [0]
    fire = Scheduler._fire_timers

    def counted(self: Scheduler) -> None:
        turns[0] += 1
        fire(self)

    monkeypatch.setattr(Scheduler, "_fire_timers", counted)
    faults(monkeypatch, {"provider": "fake", "match": "^GET /objects/", "fault": "latency", "delay": 0.1})
    ws.write(
        "resources:\n" + "".join(f"  j{i}: {{type: fake.Job, spec: {{name: j{i}, duration: 120}}}}\n" for i in range(3))
    )
    ran = apply(ws, "--parallelism", "1")
    assert ran.code == 0, str(ran)
    # a few turns for the ~30 provider calls here (8 in one run); spinning made it 61,385
    assert turns[0] < 300, turns[0]
