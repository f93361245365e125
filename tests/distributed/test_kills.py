"""SIGKILL of workers and of the coordinator: a re-run converges, 0 duplicated, 0 lost.

Real ``skyform worker`` processes on RabbitMQ, state in PostgreSQL, the fake provider's
simulator counting the objects the service holds. A worker is killed with its pool
processes (the machine died) in the middle of a slow create - before the object exists at
the service (an upload still going) and after (the download of what it made) - and the
coordinator while remote jobs run and while creates are out on workers.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest


def events(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def live_leases(cluster: Any) -> list[Any]:
    store = cluster.store()
    try:
        return store.leases().running("dm")
    except Exception:  # the schema is created by the coordinator's first write
        return []
    finally:
        store.close()


def things(cluster: Any, queue: str, names: list[str]) -> None:
    body = "".join(f"  {n}: {{type: fake.Thing, spec: {{name: {n}}}}}\n" for n in names)
    cluster.write(f"settings: {{queues: {{fake: {queue}}}}}\nresources:\n{body}")


@pytest.mark.parametrize("phase", ["before", "after"])
def test_a_worker_killed_in_the_middle_of_a_create_is_replaced_and_nothing_is_duplicated(cluster, phase):
    queue = cluster.queue("kill")
    names = ["a", "b", "c"]
    things(cluster, queue, names)
    doomed = cluster.worker(queue, concurrency=3, env={"FAKE_CREATE_PAUSE": f"{phase}:60"})
    coordinator = cluster.popen_apply()
    try:
        wait_for(lambda: len(live_leases(cluster)) == 3, "three operations on the first worker")
        if phase == "after":  # the objects exist; the workers are still busy with them
            wait_for(lambda: len(cluster.names()) == 3, "the three objects at the service")
        doomed.kill()
        cluster.worker(queue, concurrency=3)
        out, err = coordinator.communicate(timeout=120)
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
            coordinator.wait()
    assert coordinator.returncode == 0, out + err
    assert cluster.names() == names  # one object per resource: 0 duplicated, 0 lost
    assert cluster.remote()["creates"] == 3
    deliveries = {e["address"]: e["delivery"] for e in events(out) if e["event"] == "dispatched"}
    assert deliveries == {"a": 2, "b": 2, "c": 2}  # each taken over by the second worker
    again = cluster.apply()
    assert again.returncode == 0 and not [e for e in events(again.stdout) if e["event"] == "dispatched"]


def test_an_operation_that_keeps_killing_its_worker_fails_its_resource_after_the_delivery_limit(cluster):
    queue = cluster.queue("poison")
    things(cluster, queue, ["boom", "fine"])
    cluster.worker(queue, env={"FAKE_KILL_WORKER_ON": "boom"})
    ran = cluster.apply(timeout=180)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    said = ran.stdout + ran.stderr
    assert "boom: its create was delivered 4 times and its worker was lost each time" in said
    assert "Traceback" not in ran.stderr
    assert cluster.names() == ["fine"]  # the other resource was applied


def test_a_killed_coordinator_is_replaced_by_the_same_apply_which_reattaches_its_running_jobs(cluster):
    queue = cluster.queue("coord")
    body = "".join(f"  j{i}: {{type: fake.Job, spec: {{name: j{i}, duration: 6000}}}}\n" for i in range(3))
    cluster.write(f"settings: {{queues: {{fake: {queue}}}}}\nresources:\n{body}")
    cluster.worker(queue, concurrency=2)
    coordinator = cluster.popen_apply()

    def all_running() -> bool:
        store = cluster.store()
        try:
            return sorted(r.status for r in store.resources("dm").values()) == ["running"] * 3
        except Exception:
            return False
        finally:
            store.close()

    try:
        wait_for(all_running, "three running jobs")
    finally:
        os.killpg(coordinator.pid, signal.SIGKILL)
        coordinator.wait()
    # "the same apply, elsewhere": a new process takes the lock over. Its sandbox runs the
    # simulator's clock 1,000 times faster: the jobs' remaining time (10 s at 600x, long so
    # that all three are seen running) passes at once, and what is checked is who polls them
    ran = cluster.apply(env={"SKYFORM_SANDBOX_CLOCK": "600000"})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert cluster.remote()["creates"] == 3 and cluster.names() == ["j0", "j1", "j2"]
    assert not [e for e in events(ran.stdout) if e["event"] == "dispatched"]  # polled here, not resubmitted
    store = cluster.store()
    try:
        assert {r.status for r in store.resources("dm").values()} == {"ready"}
    finally:
        store.close()


def test_a_coordinator_killed_while_creates_are_out_on_workers_leaves_intents_the_next_apply_adopts(cluster):
    queue = cluster.queue("coord2")
    names = ["a", "b"]
    things(cluster, queue, names)
    cluster.worker(queue, concurrency=2, env={"FAKE_CREATE_PAUSE": "after:3"})
    coordinator = cluster.popen_apply()
    try:
        wait_for(lambda: len(cluster.names()) == 2, "the objects at the service")
    finally:
        os.killpg(coordinator.pid, signal.SIGKILL)
        coordinator.wait()
    ran = cluster.apply()
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert cluster.names() == names and cluster.remote()["creates"] == 2
    outcomes = {e["address"]: e.get("outcome") for e in events(ran.stdout) if e.get("after") == "ready"}
    assert outcomes == {"a": "adopted", "b": "adopted"}


@pytest.mark.slow  # the visibility timeout is waited out: ~20 s, and more than a minute under load
def test_on_redis_a_killed_workers_operation_comes_back_after_the_visibility_timeout(redis_cluster):
    """Redis has no consumer to notice the loss: the unacknowledged message is restored
    after the visibility timeout (twice the longest operation: 2 x 10 s here), then the
    replacement adopts or creates - one object per resource."""
    cluster = redis_cluster
    queue = cluster.queue("redis-kill")
    things(cluster, queue, ["a", "b"])
    limits = {"SKYFORM_LONGEST_OPERATION": "10"}
    doomed = cluster.worker(queue, concurrency=2, env={**limits, "FAKE_CREATE_PAUSE": "after:3"})
    coordinator = cluster.popen_apply()
    try:
        wait_for(lambda: len(cluster.names()) == 2, "the objects at the service")
        doomed.kill()  # both creates made their object; neither answer reached the coordinator
        cluster.worker(queue, concurrency=2, env=limits)
        out, err = coordinator.communicate(timeout=120)
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
            coordinator.wait()
    assert coordinator.returncode == 0, out + err
    assert cluster.names() == ["a", "b"] and cluster.remote()["creates"] == 2  # 0 duplicated, 0 lost
    outcomes = {e["address"]: e.get("outcome") for e in events(out) if e.get("after") == "ready"}
    assert outcomes == {"a": "adopted", "b": "adopted"}
