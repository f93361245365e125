"""Ctrl-C and SIGKILL mid-apply, then a resumed apply: nothing lost, nothing created twice.

`skyform apply` runs as a subprocess (its own session) with `--json`, so the test sees each
transition as it happens and can signal the process at a chosen moment. Simulator state is
persisted in the mission's .skyform/sandbox, so the next run sees what the killed one made.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest


def read_until(
    proc: subprocess.Popen[str], predicate: Callable[[dict[str, Any]], bool], timeout: float = 30
) -> list[dict[str, Any]]:
    """JSON lines from ``proc`` up to the first one matching ``predicate`` (or the end of output)."""
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    seen: list[dict[str, Any]] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if not line.strip():
                continue
            event = json.loads(line)
            seen.append(event)
            if predicate(event):
                break
    finally:
        watchdog.cancel()
    return seen


def until_intent(ws, address: str, timeout: float = 20) -> None:
    """Wait until ``address``'s create intent is in state: the "creating" event is shown as the
    intent is put, and the tick's transaction (which the call waits for) commits just after;
    on a loaded machine a kill a fixed 0.3 s later could come before it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = ws.records().get(address)
        if record is not None and record.status == "creating":
            return
        time.sleep(0.02)
    raise AssertionError(f"{address}'s create intent never reached state")


def by_name(ws) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in ws.remote_objects():
        counts[o["name"]] = counts.get(o["name"], 0) + 1
    return counts


def made_by_service(oid: str, key: str) -> dict[str, object]:
    """A ready object the fake service holds for idempotency ``key``: the window where the
    service made it and its answer was lost."""
    return {
        "id": oid,
        "kind": "thing",
        "name": "a",
        "key": key,
        "value": None,
        "state": "ready",
        "started": 0,
        "duration": 0,
        "fate": "ok",
    }


def test_sigint_stops_dispatching_records_state_and_apply_resumes(ws):
    """First Ctrl-C: in-flight calls finish, state is written, exit 130 with how to resume;
    the running job stays recorded and the next apply waits for it without resubmitting."""
    ws.write("""
        resources:
          j: {type: fake.Job, spec: {name: j, duration: 1500}}
          after: {type: fake.Thing, spec: {name: after}, depends_on: [j]}
    """)
    proc = ws.popen("apply", "--sandbox", "--auto-approve", "--json", ".")
    seen = read_until(proc, lambda e: e.get("event") == "transition" and e.get("after") == "running")
    assert seen and seen[-1]["after"] == "running", seen
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "Interrupt received: finishing in-flight calls and recording state" in err
    assert "apply was interrupted; state is recorded" in err
    assert "run `skyform apply` again to resume" in err
    assert "Traceback" not in err
    records = ws.records()
    assert records["j"].status == "running" and records["j"].remote_id
    assert "after" not in records
    store = ws.store()
    assert store.lock_info("mission") is None
    store.close()
    # the job's remaining ~2 s of service time (long, so that the Ctrl-C lands while it runs)
    # passes at once on a 100x faster sandbox clock: what is checked is who waits for it
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path, env={"SKYFORM_SANDBOX_CLOCK": "60000"})
    assert ran.code == 0, str(ran)
    assert "j (fake.Job) is still running: apply waits for it" in ran.out
    assert by_name(ws) == {"j": 1, "after": 1}
    assert ws.remote()["creates"] == 2
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path).code == 0


def kill_mission() -> str:
    """A chain t0 -> ... -> t10 with a remote job in the middle, and a short parallel branch.

    The chain makes creates sequential, so each killed run gets only a little further.
    """
    lines = ["resources:", "  t0: {type: fake.Thing, spec: {name: t0}}"]
    for i in range(1, 11):
        prev = "job" if i == 6 else f"t{i - 1}"
        if i == 5:
            lines.append('  job: {type: fake.Job, spec: {name: "job-${{ resources.t4.outputs.name }}", duration: 600}}')
        lines.append(
            f'  t{i}: {{type: fake.Thing, spec: {{name: "t{i}", value: "${{{{ resources.{prev}.outputs.id }}}}"}}}}'
        )
    lines += ["  d: {type: fake.Thing, spec: {name: d}}", "  e: {type: fake.Thing, spec: {name: e}, depends_on: [d]}"]
    return "\n".join(lines) + "\n"


KILL_RESOURCES = 14


@pytest.mark.slow  # a campaign: five seeded SIGKILLs, each resumed
def test_sigkill_at_random_moments_then_resume_creates_each_object_once(ws):
    """SIGKILL at five seeded random moments (creates slowed by latency so kills land between the
    recorded intent and the answer), then a resumed apply: exactly one remote object per resource,
    the stale locks were taken over, and the next plan has no changes."""
    ws.write(kill_mission())
    slow = {
        "SKYFORM_SANDBOX_FAULTS": json.dumps(
            [{"provider": "fake", "match": "^POST /objects$", "fault": "latency", "delay": 0.4}]
        )
    }
    rng = random.Random(20261123)
    kills = takeovers = 0
    left_creating = 0
    finished: list[tuple[int, str]] = []
    for _ in range(8):
        proc = ws.popen("apply", "--sandbox", "--auto-approve", "--json", "--parallelism", "2", ".", env=slow)
        seen = read_until(proc, lambda e: e.get("event") == "transition" and e.get("after") == "creating")
        takeovers += sum(1 for e in seen if e.get("event") == "warning" and "taking over the lock" in e["message"])
        time.sleep(rng.uniform(0.0, 0.5))
        if proc.poll() is None:
            proc.kill()
            kills += 1
        _out, err = proc.communicate(timeout=30)
        if proc.returncode != -signal.SIGKILL:
            finished.append((proc.returncode, err[-2000:]))
        left_creating += any(r.status == "creating" for r in ws.records().values())
        if kills >= 5:
            break
    assert kills >= 5, finished
    assert left_creating >= 1, "no kill landed between a recorded intent and its answer"
    assert takeovers >= kills - 1
    interrupted = [r.address for r in ws.records().values() if r.status in ("creating", "running")]
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, f"{ran}\ninterrupted before: {interrupted}"
    counts = by_name(ws)
    assert len(counts) == KILL_RESOURCES and set(counts.values()) == {1}, counts
    assert ws.remote()["creates"] == KILL_RESOURCES, ws.remote()["creates"]
    assert ws.remote()["deleted"] == 0
    assert {r.status for r in ws.records().values()} == {"ready"}
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path).code == 0


def test_killed_create_is_adopted_not_repeated(ws):
    """A process killed after the service made the object but before skyform recorded it:
    the next plan says it will adopt, and apply adopts the object instead of creating another."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    # the answer is delayed after the object exists: kill in that window
    slow = {
        "SKYFORM_SANDBOX_FAULTS": json.dumps(
            [{"provider": "fake", "match": "^POST /objects$", "fault": "latency", "delay": 3}]
        )
    }
    proc = ws.popen("apply", "--sandbox", "--auto-approve", "--json", ".", env=slow)
    read_until(proc, lambda e: e.get("after") == "creating")
    time.sleep(0.5)
    proc.kill()
    proc.communicate(timeout=30)
    # the latency fault answers before the handler runs: nothing was made, the intent is recorded
    assert ws.records()["a"].status == "creating"
    key = ws.records()["a"].idempotency_key
    # simulate the other window: the service made the object for that key, the answer was lost
    data = ws.remote()
    data["objects"]["pre-made"] = made_by_service("pre-made", key)
    ws.sandbox_file.parent.mkdir(parents=True, exist_ok=True)
    ws.sandbox_file.write_text(json.dumps(data))
    plan = ws.run("plan", "--sandbox", ws.path)
    assert "found pre-made made by the interrupted create: it will be adopted" in plan.out, str(plan)
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    assert "(adopted the object an interrupted run created)" in ran.out
    assert [o["id"] for o in ws.remote_objects()] == ["pre-made"]
    assert ws.records()["a"].remote_id == "pre-made"


def test_a_failed_create_whose_object_the_service_made_is_adopted_not_repeated(ws):
    """Every create attempt answered 503, so the record ends failed with no remote id; the
    service had made the object for the intent's key all the same (the answer lost). The
    next plan finds it and says it will adopt it; apply adopts: one object, not two."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    refused = {
        "SKYFORM_SANDBOX_FAULTS": json.dumps(
            [{"provider": "fake", "match": "^POST /objects$", "fault": "status", "status": 503}]
        )
    }
    failed = ws.run("apply", "--sandbox", "--auto-approve", ws.path, env=refused)
    assert failed.code == 1, str(failed)
    record = ws.records()["a"]
    assert (record.status, record.remote_id) == ("failed", None)
    data = ws.remote()
    data["objects"]["made"] = made_by_service("made", record.idempotency_key)
    ws.sandbox_file.write_text(json.dumps(data))
    plan = ws.run("plan", "--sandbox", ws.path)
    assert "a (fake.Thing) will be created  # resume a failed create" in plan.out, str(plan)
    assert "found made made by the failed create: it will be adopted" in plan.out, str(plan)
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    assert [o["id"] for o in ws.remote_objects()] == ["made"]
    assert ws.records()["a"].remote_id == "made"


SLOW_CREATE = {
    "SKYFORM_SANDBOX_FAULTS": json.dumps(
        [{"provider": "fake", "match": "^POST /objects$", "fault": "latency", "delay": 1.5}]
    )
}
PAIR = """
    resources:
      a: {type: fake.Thing, spec: {name: a}}
      b: {type: fake.Thing, spec: {name: b}, depends_on: [a]}
"""


def test_first_ctrl_c_lets_the_inflight_create_finish_and_records_it(ws):
    """Ctrl-C during a create: the call completes and is recorded ready; nothing new starts (b)."""
    ws.write(PAIR)
    proc = ws.popen("apply", "--sandbox", "--auto-approve", "--json", ".", env=SLOW_CREATE)
    read_until(proc, lambda e: e.get("after") == "creating")
    time.sleep(0.4)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    summary = json.loads(out.splitlines()[-1])
    assert summary["event"] == "summary" and summary["done"] == 1 and summary["skipped"] == ["b"]
    assert {a: r.status for a, r in ws.records().items()} == {"a": "ready"}
    assert by_name(ws) == {"a": 1}


def test_second_ctrl_c_stops_at_once_and_the_next_apply_adopts_or_creates_once(ws):
    """A second Ctrl-C stops without waiting (exit 130, no traceback); the resumed apply ends with one object each."""
    ws.write(PAIR)
    proc = ws.popen("apply", "--sandbox", "--auto-approve", "--json", ".", env=SLOW_CREATE)
    read_until(proc, lambda e: e.get("after") == "creating")
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err
    assert ws.records()["a"].status == "creating"
    plan = ws.run("plan", "--sandbox", ws.path)
    assert "a (fake.Thing) will be created  # resume an interrupted create" in plan.out, str(plan)
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    assert by_name(ws) == {"a": 1, "b": 1}


def test_sigkill_during_destroy_then_destroy_again_finishes(ws):
    """A destroy killed mid-delete is finished by the next destroy: no objects, no records, no error."""
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a}}
          b: {type: fake.Thing, spec: {name: "${{ resources.a.outputs.id }}"}}
          c: {type: fake.Thing, spec: {name: c}}
    """)
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0
    slow = {
        "SKYFORM_SANDBOX_FAULTS": json.dumps(
            [{"provider": "fake", "match": "^DELETE ", "fault": "latency", "delay": 0.6}]
        )
    }
    proc = ws.popen("destroy", "--sandbox", "--auto-approve", "--json", ".", env=slow)
    read_until(proc, lambda e: e.get("after") == "deleting")
    time.sleep(0.3)
    proc.kill()
    proc.communicate(timeout=30)
    assert ws.records(), "the kill came too late to test anything"
    ran = ws.run("destroy", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    assert ws.remote_objects() == [] and ws.records() == {}
    assert ws.remote()["deleted"] == 3


@pytest.mark.parametrize("failing_write", [2, 3, 4, 5])
def test_state_write_failure_mid_apply_is_exit_5_and_the_next_apply_recovers(ws, monkeypatch, failing_write):
    """A state write that fails (disk error) stops the apply with exit 5 and no traceback; because intents are
    durable before requests leave, the next apply adopts or creates so each resource exists exactly once."""
    from skyform.errors import StateError
    from skyform.state.sqlite import SqliteStateStore

    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a}}
          b: {type: fake.Thing, spec: {name: "${{ resources.a.outputs.id }}"}}
          c: {type: fake.Job, spec: {name: c, duration: 60}, depends_on: [b]}
    """)
    real = SqliteStateStore.write
    calls = {"n": 0}

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == failing_write:
            raise StateError(f"could not write state in {self.path}: disk I/O error; the write was rolled back")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SqliteStateStore, "write", flaky)
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path).clean()
    assert ran.code == 5, str(ran)
    assert "disk I/O error" in ran.err
    monkeypatch.setattr(SqliteStateStore, "write", real)
    store = ws.store()
    try:
        assert store.lock_info("mission") is None
    finally:
        store.close()
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    assert sorted(o["kind"] for o in ws.remote_objects()) == ["job", "thing", "thing"]
    assert ws.remote()["creates"] == 3
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path).code == 0


def test_two_applies_started_together_one_wins_the_lock(ws):
    """Two `apply` processes racing on one mission: one applies, the other exits 6 naming the holder
    (or finds nothing left to do); never two creates of one resource."""
    ws.write(PAIR)
    procs = [ws.popen("apply", "--sandbox", "--auto-approve", ".", env=SLOW_CREATE) for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    results = [(p.returncode, out) for p, out in zip(procs, outputs, strict=True)]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 6], [0, 0]), results
    if codes == [0, 6]:
        loser = next(err for code, (_, err) in results if code == 6)
        assert "mission 'mission' is locked by" in loser and "Traceback" not in loser
    assert by_name(ws) == {"a": 1, "b": 1}
    assert ws.remote()["creates"] == 2


def test_ambiguous_adoption_blocks_the_resource_instead_of_guessing(ws):
    """Two remote objects for one interrupted create's key: the plan says why it is blocked, apply fails that
    node without creating a third object, and independent resources still apply."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n  k: {type: fake.Thing, spec: {name: k}}\n")
    slow = {
        "SKYFORM_SANDBOX_FAULTS": json.dumps(
            [{"provider": "fake", "match": "^POST /objects$", "fault": "latency", "delay": 3}]
        )
    }
    proc = ws.popen("apply", "--sandbox", "--auto-approve", "--json", "--parallelism", "1", ".", env=slow)
    read_until(proc, lambda e: e.get("after") == "creating")
    until_intent(ws, "a")
    proc.kill()
    proc.communicate(timeout=30)
    key = ws.records()["a"].idempotency_key
    data = ws.remote()
    for oid in ("dup-1", "dup-2"):
        data["objects"][oid] = made_by_service(oid, key)
    ws.sandbox_file.parent.mkdir(parents=True, exist_ok=True)
    ws.sandbox_file.write_text(json.dumps(data))
    plan = ws.run("plan", "--sandbox", ws.path)
    assert "blocked: 2 objects carry the idempotency key" in plan.out, str(plan)
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path).clean()
    assert ran.code == 1, str(ran)
    assert "a: 2 objects carry the idempotency key" in ran.err
    assert sorted(o["id"] for o in ws.remote_objects() if o["name"] == "a") == ["dup-1", "dup-2"]
    assert [o["name"] for o in ws.remote_objects() if o["name"] != "a"] == ["k"]


def test_job_created_on_resume_gets_its_full_timeout(ws):
    """A create killed before it reached the service, resumed after lifecycle.timeout: the NEW job gets its own
    timeout and completes instead of being cancelled at once. (Service time: the resumed apply's
    sandbox clock is 6,000x, where 1h is 0.6 s and the job's 1200 s take 0.2 s.)"""
    ws.write("resources:\n  j: {type: fake.Job, spec: {name: j, duration: 1200}, lifecycle: {timeout: 1h}}\n")
    slow = {
        "SKYFORM_SANDBOX_FAULTS": json.dumps(
            [{"provider": "fake", "match": "^POST /objects$", "fault": "latency", "delay": 3}]
        )
    }
    proc = ws.popen("apply", "--sandbox", "--auto-approve", "--json", ".", env=slow)
    read_until(proc, lambda e: e.get("after") == "creating")
    until_intent(ws, "j")
    proc.kill()
    proc.communicate(timeout=30)
    assert ws.records()["j"].status == "creating"
    time.sleep(0.7)  # past the timeout counted from the killed run's intent
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path, env={"SKYFORM_SANDBOX_CLOCK": "6000"})
    assert ran.code == 0, str(ran)
    assert [o["state"] for o in ws.remote_objects()] == ["done"]


def test_destroy_after_an_interrupted_create_deletes_the_object_it_made(ws):
    """A create killed after the service made the object, then `destroy`: the object is found and deleted."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    slow = {
        "SKYFORM_SANDBOX_FAULTS": json.dumps(
            [{"provider": "fake", "match": "^POST /objects$", "fault": "latency", "delay": 3}]
        )
    }
    proc = ws.popen("apply", "--sandbox", "--auto-approve", "--json", ".", env=slow)
    read_until(proc, lambda e: e.get("after") == "creating")
    until_intent(ws, "a")
    proc.kill()
    proc.communicate(timeout=30)
    key = ws.records()["a"].idempotency_key
    data = ws.remote()
    data["objects"]["made"] = made_by_service("made", key)
    ws.sandbox_file.parent.mkdir(parents=True, exist_ok=True)
    ws.sandbox_file.write_text(json.dumps(data))
    ran = ws.run("destroy", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    assert ws.records() == {}
    assert ws.remote_objects() == [], "the object made by the interrupted create was leaked"


def test_a_failed_create_planned_without_refresh_still_looks_before_creating(ws):
    """The same failed create applied with --refresh=false (nothing looked at plan time):
    apply looks for the intent's object first and adopts it."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    refused = {
        "SKYFORM_SANDBOX_FAULTS": json.dumps(
            [{"provider": "fake", "match": "^POST /objects$", "fault": "status", "status": 503}]
        )
    }
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path, env=refused).code == 1
    data = ws.remote()
    data["objects"]["made"] = made_by_service("made", ws.records()["a"].idempotency_key)
    ws.sandbox_file.write_text(json.dumps(data))
    ran = ws.run("apply", "--sandbox", "--auto-approve", "--refresh=false", ws.path)
    assert ran.code == 0, str(ran)
    assert [o["id"] for o in ws.remote_objects()] == ["made"]
