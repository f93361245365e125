"""apply --executor celery: operations run on real ``skyform worker`` processes.

RabbitMQ and PostgreSQL of this machine (one run on Redis); the fake provider's simulator
counts the objects the service holds. The coordinator keeps the DAG, the journal and the
state; workers take a lease per operation and send back small, fenced results.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest


def events(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_an_apply_runs_its_operations_on_workers_and_records_them_here(cluster):
    queue = cluster.queue("default")
    cluster.write(f"""
        settings: {{queues: {{fake: {queue}}}}}
        resources:
          a: {{type: fake.Thing, spec: {{name: a}}}}
          b: {{type: fake.Thing, spec: {{name: b}}}}
          j: {{type: fake.Job, spec: {{name: "${{{{ resources.a.outputs.name }}}}-j", duration: 1}}}}
    """)
    first, second = cluster.worker(queue), cluster.worker(queue)
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
        records = store.resources("dm")
        assert {a: r.status for a, r in records.items()} == {"a": "ready", "b": "ready", "j": "ready"}
        assert store.leases().running("dm") == []  # every lease was finished by the coordinator
        assert {w.name for w in store.leases().workers()} <= {first.name, second.name}
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


def test_a_worker_without_the_secret_fails_the_resource_naming_the_variable(cluster):
    queue = cluster.queue("nosecret")
    cluster.write(f"""
        settings: {{queues: {{fake: {queue}}}}}
        resources:
          a: {{type: fake.Thing, spec: {{name: a, value: "${{{{ secrets.API_TOKEN }}}}"}}}}
    """)
    cluster.worker(queue)
    ran = cluster.apply(env={"SKYFORM_SECRET_API_TOKEN": "s3cr3t-value-x"})
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "secret 'API_TOKEN' is not set on this worker" in ran.stdout + ran.stderr
    assert "SKYFORM_SECRET_API_TOKEN" in ran.stdout + ran.stderr
    assert cluster.names() == []


def test_operations_go_to_the_queue_of_their_resource_else_of_their_provider(cluster):
    site, default = cluster.queue("site-a12"), cluster.queue("rest")
    cluster.write(f"""
        settings: {{queues: {{fake: {default}}}}}
        resources:
          photos: {{type: fake.Thing, spec: {{name: photos}}, lifecycle: {{queue: {site}}}}}
          other: {{type: fake.Thing, spec: {{name: other}}}}
    """)
    near_the_photos, elsewhere = cluster.worker(site), cluster.worker(default)
    ran = cluster.apply()
    assert ran.returncode == 0, ran.stdout + ran.stderr
    dispatched = {e["address"]: e for e in events(ran.stdout) if e["event"] == "dispatched"}
    assert dispatched["photos"]["worker"] == near_the_photos.name and dispatched["photos"]["queue"] == site
    assert dispatched["other"]["worker"] == elsewhere.name and dispatched["other"]["queue"] == default


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


@pytest.mark.parametrize("pool", ["threads"])
def test_the_threads_pool_runs_operations_too(cluster, pool):
    queue = cluster.queue("threads")
    cluster.write(f"""
        settings: {{queues: {{fake: {queue}}}}}
        resources:
          a: {{type: fake.Thing, spec: {{name: a}}}}
    """)
    cluster.worker(queue, pool=pool, concurrency=2)
    ran = cluster.apply()
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert cluster.names() == ["a"]


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
