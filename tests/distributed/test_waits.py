"""The coordinator never waits forever: time limits and absent workers fail their resource.

One worker pool for the module (RabbitMQ, PostgreSQL): a worker whose operations may run
5 s (``SKYFORM_LONGEST_OPERATION``; the hard limit 1 s later), heartbeating every 0.2 s.
Each test has its own mission directory and name. What is checked:

- an operation stopped at the soft limit (an exception inside it), or killed at the hard
  limit (a provider that swallows the exception), comes back as its resource's failure;
- an operation on a queue no worker serves fails after ``--worker-timeout``, naming the
  queue, and a worker that gets its message later does not run it;
- one queued behind a busy worker that serves its queue is not failed: it waits, warned;
  also when that worker was started without ``--state`` and never served this mission's
  state database (the broker says it consumes the queue);
- one whose worker died with nobody to take it over fails, naming that worker.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

LIMITED = {
    "SKYFORM_LONGEST_OPERATION": "5",  # the limits test waits it out: short, yet 2.5x the 2 s creates
    "SKYFORM_TIME_LIMIT_GRACE": "1",
    "FAKE_CREATE_PAUSE": "soft=before:30,hard=stubborn:30,slow=before:2,slow2=before:2",
}


def events(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def pool(module_cluster):
    """The module's worker on its queue, and the cluster."""
    module_cluster.env["SKYFORM_WORKER_HEARTBEAT"] = "0.2"
    queue = module_cluster.queue("limited")
    module_cluster.worker(queue, env=LIMITED, concurrency=2)
    # warm: the worker's first operation loads the registry and the provider, which under
    # load can take longer than the 5 s limit the tests give the operation itself
    mission(module_cluster, "warm", queue, ["warm"])
    warmed = module_cluster.apply()
    assert warmed.returncode == 0, warmed.stdout + warmed.stderr
    return module_cluster, queue


def mission(cluster: Any, name: str, queue: str, things: list[str]) -> None:
    cluster.fresh(name)
    body = "".join(f"  {n}: {{type: fake.Thing, spec: {{name: {n}}}}}\n" for n in things)
    cluster.write(f"settings: {{queues: {{fake: {queue}}}}}\nresources:\n{body}", name=name)


def test_operations_stopped_at_their_time_limit_fail_their_resource_and_the_apply_ends(pool):
    """``soft`` gets Celery's exception in its sleep; ``hard`` swallows it and is killed."""
    cluster, queue = pool
    mission(cluster, "limits", queue, ["soft", "hard", "fine"])
    started = time.monotonic()
    ran = cluster.apply("--worker-timeout", "60", timeout=40)
    said = ran.stdout + ran.stderr
    assert ran.returncode == 1, said
    assert time.monotonic() - started < 35  # the limits, not --worker-timeout, ended it
    for limit in ("soft", "hard"):
        assert f"{limit}: its create ran longer than" in said and "SKYFORM_LONGEST_OPERATION" in said
    assert "Traceback" not in ran.stderr
    assert cluster.names() == ["fine"]  # the stopped creates made nothing; the other went on


def test_an_operation_on_a_queue_no_worker_serves_fails_after_the_worker_timeout(pool):
    cluster, served = pool
    nobody = cluster.queue("nobody")
    mission(cluster, "noworker", nobody, ["a"])
    ran = cluster.apply("--worker-timeout", "1", timeout=60)
    said = ran.stdout + ran.stderr
    assert ran.returncode == 1, said
    assert f"no worker took a's create from queue {nobody} in 1s (workers seen serve {served})" in said
    assert f"skyform worker --queues {nobody}" in said and "Traceback" not in ran.stderr
    store = cluster.store()
    try:
        assert store.leases().running("noworker") == []  # closed: a worker getting it later skips it
    finally:
        store.close()
    assert cluster.names() == []


def test_an_operation_queued_behind_a_busy_worker_waits_for_it(pool):
    cluster, queue = pool
    mission(cluster, "busy", queue, ["slow", "slow2", "next"])
    ran = cluster.apply("--worker-timeout", "0.5", timeout=60)
    said = ran.stdout + ran.stderr
    assert ran.returncode == 0, said
    assert cluster.names() == ["next", "slow", "slow2"]
    assert "serve it and are busy" in said  # said while it waited, and not failed


def test_an_operation_whose_worker_died_with_nobody_to_take_it_over_fails_naming_it(pool):
    cluster, _ = pool
    queue = cluster.queue("orphan")
    mission(cluster, "orphan", queue, ["doomed"])
    # --state (SKYFORM_STATE): it heartbeats from the start, so the coordinator sees that a
    # worker serves the queue while its first operation loads
    doomed = cluster.worker(queue, env={"FAKE_CREATE_PAUSE": "doomed=before:60", "SKYFORM_STATE": cluster.state})
    coordinator = cluster.popen_apply("--worker-timeout", "1")
    try:
        deadline = time.monotonic() + 60
        while not (cluster.mission_dir / ".skyform").exists() or not _leased(cluster, "orphan"):
            if coordinator.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the operation never reached the worker: {coordinator.communicate()}")
            time.sleep(0.1)
        doomed.kill()
        out, err = coordinator.communicate(timeout=60)
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
            coordinator.wait()
    assert coordinator.returncode == 1, out + err
    assert f"doomed's create stopped on worker {doomed.name} (its lease lapsed)" in out + err


def _leased(cluster: Any, name: str) -> bool:
    store = cluster.store()
    try:
        return bool(store.leases().running(name))
    except Exception:  # the schema is created by the coordinator's first write
        return False
    finally:
        store.close()


def test_an_operation_queued_behind_a_worker_started_without_state_waits_for_it(cluster):
    """The worker (no ``--state``) is busy with another mission whose state is elsewhere, so
    it has never marked itself alive in this mission's database; the broker says it consumes
    the queue, so the operation waits (warned) and runs, not failed after --worker-timeout."""
    from skyform.state import open_store
    from skyform.state.plugin import skyform_state_backends

    queue = cluster.queue("stateless")
    worker = cluster.worker(queue, env={"FAKE_CREATE_PAUSE": "slow=before:6"})
    elsewhere = cluster.state.replace(f"schema={cluster.prefix}", f"schema={cluster.prefix}x")
    mission(cluster, "first", queue, ["slow"])
    first_dir = cluster.mission_dir
    first = cluster.popen_apply("--state", elsewhere)
    try:
        other = open_store(elsewhere, first_dir, skyform_state_backends())
        try:
            deadline = time.monotonic() + 60
            while not _leased_in(other, "first"):
                if first.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"the first operation never reached the worker: {first.communicate()}")
                time.sleep(0.1)
            mission(cluster, "second", queue, ["next"])
            ran = cluster.apply("--worker-timeout", "1", timeout=90)
            said = ran.stdout + ran.stderr
            assert ran.returncode == 0, said
            assert f"waiting: {worker.name} serve it and are busy" in said
            assert cluster.names() == ["next"]
            out, err = first.communicate(timeout=60)
            assert first.returncode == 0, out + err
        finally:
            other.drop_schema()
            other.close()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()


def _leased_in(store: Any, name: str) -> bool:
    try:
        return bool(store.leases().running(name))
    except Exception:  # the schema is created by the coordinator's first write
        return False
