"""apply --executor celery: operations run on real ``skyform worker`` processes.

RabbitMQ and PostgreSQL of this machine (one run on Redis); the fake provider's simulator
counts the objects the service holds. The coordinator keeps the DAG, the journal and the
state; workers take a lease per operation and send back small, fenced results.

The tests that need a worker no test kills or configures share the module's :func:`pool`
(three workers, one schema; each test its own mission name and directory): a worker start is
a process and ~1.5 s. A test whose worker holds a secret, pauses, or must start after the
message is queued starts its own.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest


def events(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@dataclass
class Pool:
    """The module's shared workers and their queues."""

    cluster: Any
    shared: str  # served by first and second
    site: str  # served by near only
    threads: str  # served by second only, a threads-pool worker
    first: Any
    second: Any
    near: Any

    @property
    def names(self) -> set[str]:
        return {self.first.name, self.second.name, self.near.name}


@pytest.fixture(scope="module")
def pool(module_cluster):
    cluster = module_cluster
    shared, site, threads = cluster.queue("shared"), cluster.queue("site-a12"), cluster.queue("threads")
    first = cluster.worker(shared)
    second = cluster.worker(shared, threads, pool="threads", concurrency=2)
    near = cluster.worker(site)
    return Pool(cluster, shared, site, threads, first, second, near)


def test_an_apply_runs_its_operations_on_workers_and_records_them_here(pool):
    cluster, queue = pool.cluster, pool.shared
    cluster.fresh("records")
    cluster.write(
        f"""
        settings: {{queues: {{fake: {queue}}}}}
        resources:
          a: {{type: fake.Thing, spec: {{name: a}}}}
          b: {{type: fake.Thing, spec: {{name: b}}}}
          j: {{type: fake.Job, spec: {{name: "${{{{ resources.a.outputs.name }}}}-j", duration: 1}}}}
    """,
        name="records",
    )
    first, second = pool.first, pool.second
    ran = cluster.apply()
    assert ran.returncode == 0, ran.stdout + ran.stderr
    seen = events(ran.stdout)
    dispatched = {e["address"]: e for e in seen if e["event"] == "dispatched"}
    assert sorted(dispatched) == ["a", "b", "j"]
    assert {e["worker"] for e in dispatched.values()} <= {first.name, second.name}
    assert all(e["queue"] == queue and e["delivery"] == 1 for e in dispatched.values())
    assert cluster.names() == ["a", "a-j", "b"]
    store = cluster.store()
    try:
        records = store.resources("records")
        assert {a: r.status for a, r in records.items()} == {"a": "ready", "b": "ready", "j": "ready"}
        assert store.leases().running("records") == []  # every lease was finished by the coordinator
        seen_workers = {w.name for w in store.leases().workers()}
        assert {e["worker"] for e in dispatched.values()} <= seen_workers <= pool.names
    finally:
        store.close()
    again = cluster.apply()
    assert again.returncode == 0 and not [e for e in events(again.stdout) if e["event"] == "dispatched"]


def test_secrets_travel_as_names_and_the_worker_resolves_them_from_its_own_environment(cluster):
    """The raw message in the broker holds the secret's name, never its value."""
    from kombu import Connection, Queue

    queue = cluster.queue("secrets")
    secret = "tok-3f9a61c2-very-secret"
    cluster.write(f"""
        settings: {{queues: {{fake: {queue}}}}}
        resources:
          a: {{type: fake.Thing, spec: {{name: a, value: "Bearer ${{{{ secrets.API_TOKEN }}}}"}}}}
    """)
    coordinator = cluster.popen_apply(env={"SKYFORM_SECRET_API_TOKEN": secret})
    try:
        body = None
        with Connection(cluster.broker) as conn:
            deadline = time.monotonic() + 60
            while body is None and time.monotonic() < deadline:
                try:
                    message = Queue(queue)(conn.channel()).get(no_ack=False)
                except Exception:  # not declared yet (the channel closes; the next try opens another)
                    message = None
                if message is None:
                    time.sleep(0.2)
                    continue
                body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
                assert message.content_type == "application/json"
                raw = body + repr(message.headers).encode()
                # no countdown or ETA: a delay past Redis' visibility timeout would run it twice
                assert message.headers.get("eta") is None and message.headers.get("countdown") is None
                message.requeue()
        assert body is not None, "the operation never reached the broker"
        assert secret.encode() not in raw
        assert b"API_TOKEN" in body and b"$secret_ref" in body
        cluster.worker(queue, env={"SKYFORM_SECRET_API_TOKEN": secret})
        out, err = coordinator.communicate(timeout=120)
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
            coordinator.wait()
    assert coordinator.returncode == 0, out + err
    assert secret not in out and secret not in err
    [obj] = cluster.remote()["objects"].values()
    assert obj["value"] == f"Bearer {secret}"  # the worker sent the real value to the service
    store = cluster.store()
    try:
        assert secret not in repr(store.resources("dm")["a"])  # state keeps a digest
    finally:
        store.close()


def test_a_worker_without_the_secret_fails_the_resource_naming_the_variable(pool):
    cluster, queue = pool.cluster, pool.shared  # the pool's workers have no secret in their environment
    cluster.fresh("nosecret")
    cluster.write(
        f"""
        settings: {{queues: {{fake: {queue}}}}}
        resources:
          a: {{type: fake.Thing, spec: {{name: a, value: "${{{{ secrets.API_TOKEN }}}}"}}}}
    """,
        name="nosecret",
    )
    ran = cluster.apply(env={"SKYFORM_SECRET_API_TOKEN": "s3cr3t-value-x"})
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "secret 'API_TOKEN' is not set on this worker" in ran.stdout + ran.stderr
    assert "SKYFORM_SECRET_API_TOKEN" in ran.stdout + ran.stderr
    assert cluster.names() == []


def test_operations_go_to_the_queue_of_their_resource_else_of_their_provider(pool):
    cluster, site, default = pool.cluster, pool.site, pool.shared
    cluster.fresh("routing")
    cluster.write(
        f"""
        settings: {{queues: {{fake: {default}}}}}
        resources:
          photos: {{type: fake.Thing, spec: {{name: photos}}, lifecycle: {{queue: {site}}}}}
          other: {{type: fake.Thing, spec: {{name: other}}}}
    """,
        name="routing",
    )
    ran = cluster.apply()
    assert ran.returncode == 0, ran.stdout + ran.stderr
    dispatched = {e["address"]: e for e in events(ran.stdout) if e["event"] == "dispatched"}
    assert dispatched["photos"]["worker"] == pool.near.name and dispatched["photos"]["queue"] == site
    assert dispatched["other"]["worker"] in {pool.first.name, pool.second.name}
    assert dispatched["other"]["queue"] == default


def test_a_queue_name_the_broker_cannot_take_is_a_spec_error_with_its_line(cluster):
    cluster.write("""
        resources:
          photos: {type: fake.Thing, spec: {name: photos}, lifecycle: {queue: "site a12/x"}}
    """)
    ran = cluster.apply()
    assert ran.returncode == 3, ran.stdout + ran.stderr
    assert "mission.yaml:5" in ran.stderr and "queue" in ran.stderr and "Traceback" not in ran.stderr


def test_an_unreachable_broker_fails_at_once_with_a_clear_message(cluster):
    cluster.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    ran = cluster.apply("--broker", "amqp://guest:guest@127.0.0.1:1//")
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "cannot reach the broker amqp://guest:***@127.0.0.1:1//" in ran.stderr
    assert "Traceback" not in ran.stderr and cluster.names() == []


def test_the_same_on_redis(redis_cluster):
    queue = redis_cluster.queue("redis")
    redis_cluster.write(f"""
        settings: {{queues: {{fake: {queue}}}}}
        resources:
          a: {{type: fake.Thing, spec: {{name: a}}}}
          j: {{type: fake.Job, spec: {{name: j, duration: 1}}}}
    """)
    worker = redis_cluster.worker(queue)
    ran = redis_cluster.apply()
    assert ran.returncode == 0, ran.stdout + ran.stderr + worker.text()
    dispatched = {e["address"]: e["worker"] for e in events(ran.stdout) if e["event"] == "dispatched"}
    assert dispatched == {"a": worker.name, "j": worker.name}
    assert redis_cluster.names() == ["a", "j"]


def test_the_threads_pool_runs_operations_too(pool):
    cluster, queue = pool.cluster, pool.threads  # served only by the threads-pool worker
    cluster.fresh("threads")
    cluster.write(
        f"""
        settings: {{queues: {{fake: {queue}}}}}
        resources:
          a: {{type: fake.Thing, spec: {{name: a}}}}
    """,
        name="threads",
    )
    ran = cluster.apply()
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert cluster.names() == ["a"]
    dispatched = [e for e in events(ran.stdout) if e["event"] == "dispatched"]
    assert [e["worker"] for e in dispatched] == [pool.second.name]


def test_status_shows_which_worker_runs_what_and_the_workers_seen_with_their_queues(cluster):
    queue = cluster.queue("status")
    cluster.write(f"""
        settings: {{queues: {{fake: {queue}}}}}
        resources:
          a: {{type: fake.Thing, spec: {{name: a}}}}
    """)
    release = cluster.tmp / "release"  # the create waits up to 60 s, until the test has seen it
    worker = cluster.worker(queue, env={"FAKE_CREATE_PAUSE": "before:60", "FAKE_CREATE_RELEASE": str(release)})
    coordinator = cluster.popen_apply()
    try:
        deadline = time.monotonic() + 60
        report: dict[str, Any] = {}
        while not report.get("operations") and time.monotonic() < deadline:
            shown = cluster.cli("status", str(cluster.mission_dir), "--state", cluster.state, "--json", "--no-poll")
            report = json.loads(shown.stdout) if shown.exit_code == 0 else {}
            time.sleep(0.2)
        text = cluster.run("status", str(cluster.mission_dir), "--state", cluster.state, "--no-poll").stdout
        release.touch()
        out, err = coordinator.communicate(timeout=120)
    finally:
        if coordinator.poll() is None:
            coordinator.kill()
            coordinator.wait()
    [op] = report["operations"]
    assert (op["address"], op["step"], op["worker"], op["queue"], op["delivery"]) == (
        "a",
        "create",
        worker.name,
        queue,
        1,
    )
    assert [(w["name"], w["queues"]) for w in report["workers"]] == [(worker.name, [queue])]
    assert f"a                        create on worker {worker.name} (queue {queue}, delivery 1)" in text
    assert f"Workers seen: {worker.name} ({queue};" in text
    assert coordinator.returncode == 0, out + err
