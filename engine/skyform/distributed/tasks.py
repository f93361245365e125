"""The worker's side: one Celery task that runs one provider operation under a lease.

``skyform.operate`` receives an operation (:mod:`.wire`), takes its lease in the state
database (a new fencing token; it waits while another live worker holds it), renews the
lease by heartbeat while :func:`~skyform.apply.calls.perform` runs, and publishes the
completion, with the token, to the coordinator's reply queue. It never writes the
mission's state: the coordinator does, after checking the token.

- A delivery after the first (the broker gave back the operation of a lost worker) adopts
  first: the earlier attempt may have created the object, which the idempotency key finds.
- An operation delivered more than :data:`DELIVERY_LIMIT` times (it keeps killing its
  worker) is not run again: its resource fails with a message saying so.
- An operation running past the longest an operation may run is stopped by Celery's time
  limits. (Known gap: the message naming the limit below does not reach the coordinator
  yet - the test of it hangs - so the apply waits; see docs/distributed.md.)

The mission is loaded by the worker from its own copy (the path the coordinator names;
its digest must match), with the worker's secrets; clients are kept per mission.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from celery import Celery, Task
from celery.exceptions import SoftTimeLimitExceeded

from .. import redact
from ..apply.calls import Call, Completion, perform
from ..apply.node import Step
from ..errors import PermanentError, SkyformError
from ..providers.base import Reporter
from ..spec.secrets import Secrets
from ..state.leases import Lease
from . import replies, wire

#: Deliveries of one operation before it is given up (each one lost its worker).
DELIVERY_LIMIT = 3
#: Tries to take a lease while the state database does not answer, and the seconds between
#: them (a countdown far below Redis' visibility timeout).
LEASE_RETRIES = 10
LEASE_RETRY_DELAY = 3
TASK_NAME = "skyform.operate"


def lease_ttl() -> float:
    """Seconds a lease lasts without a heartbeat (``SKYFORM_LEASE_TTL``, default 30)."""
    return float(os.environ.get("SKYFORM_LEASE_TTL") or 30)


@dataclasses.dataclass
class WorkerSettings:
    """What ``skyform worker`` was started with (kept on the app, inherited by its processes)."""

    queues: list[str]
    secrets_file: str | None = None
    state: str | None = None  # overrides the state URL operations name (a password, another host)


class _Publisher(Reporter):
    """A running operation's progress and warnings, sent to the coordinator."""

    def __init__(self, app: Celery, reply_to: str, call_id: str, address: str, worker: str) -> None:
        self.app, self.reply_to, self.base = app, reply_to, {"call_id": call_id, "address": address, "worker": worker}

    def progress(self, fraction: float | None, message: str = "") -> None:
        self._send({"kind": "progress", "fraction": fraction, "message": redact.redact(message)})

    def warn(self, message: str) -> None:
        self._send({"kind": "warning", "message": redact.redact(message)})

    def _send(self, body: dict[str, Any]) -> None:
        try:
            replies.publish(self.app, self.reply_to, {**self.base, **body})
        except Exception:  # progress is best effort: the operation goes on
            pass


class OperateTask(Task):  # celery ships no type hints: Task is Any to mypy
    """The task class: caches per worker process (state stores, loaded missions)."""

    name = TASK_NAME
    _stores: dict[str, Any]
    _runtimes: dict[tuple[str, str, str], Any]

    def cached(self) -> tuple[dict[str, Any], dict[tuple[str, str, str], Any]]:
        if not hasattr(self, "_stores"):
            self._stores, self._runtimes = {}, {}
        return self._stores, self._runtimes


def register(app: Celery) -> None:
    """Add ``skyform.operate`` to ``app``."""

    @app.task(bind=True, base=OperateTask, name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)
    def operate(self: OperateTask, payload: dict[str, Any]) -> None:
        run_operation(self, payload)


def run_operation(task: OperateTask, payload: dict[str, Any]) -> None:
    """The body of ``skyform.operate`` (see the module docstring)."""
    app = task.app
    settings: WorkerSettings = app.conf.skyform_worker
    worker = str(task.request.hostname or f"skyform-{os.getpid()}@{socket.gethostname()}")
    call_data, call_id, reply_to = payload["call"], payload["call_id"], payload["reply_to"]
    address = call_data["address"]

    def reply(body: dict[str, Any]) -> None:
        replies.publish(app, reply_to, {"call_id": call_id, "address": address, "worker": worker, **body})

    stores, runtimes = task.cached()
    url = settings.state or payload["state"]
    ttl = lease_ttl()
    try:
        store = stores.get(url)
        if store is None:
            store = stores[url] = _open_store(url, Path(payload["mission"]["source"]))
        leases = store.leases()
        leases.seen(worker, host=socket.gethostname(), pid=os.getpid(), queues=settings.queues)
        lease = _take(leases, call_id, payload, worker, ttl)
    except SkyformError as exc:  # the state database is unreachable: no lease, so not run
        stores.pop(url, None)
        if task.request.retries < LEASE_RETRIES:
            raise task.retry(countdown=LEASE_RETRY_DELAY, max_retries=LEASE_RETRIES) from None
        # unfenced (token 0): the coordinator takes it only while nobody holds the call
        reply({"kind": "completion", "token": 0, "body": wire.encode_completion(Completion(address, error=exc))})
        return
    if lease is None:
        return  # the coordinator already accepted this call's result
    reply({"kind": "started", "token": lease.token, "delivery": lease.deliveries, "queue": payload["queue"]})
    if lease.deliveries > DELIVERY_LIMIT:
        error = PermanentError(
            f"{address}: its {call_data['step']} was delivered {lease.deliveries} times and its worker was lost "
            f"each time (last {worker}); not running it again",
            hint="look for what kills the worker (memory, a crash in the provider), then apply again",
        )
        reply(
            {
                "kind": "completion",
                "token": lease.token,
                "body": wire.encode_completion(Completion(address, error=error)),
            }
        )
        return
    secrets = Secrets.from_file(Path(settings.secrets_file) if settings.secrets_file else None)
    with _heartbeat(leases, lease, ttl):
        done = _run(app, runtimes, payload, secrets, lease)
    reply({"kind": "completion", "token": lease.token, "body": wire.encode_completion(done)})


def _run(
    app: Celery, runtimes: dict[tuple[str, str, str], Any], payload: dict[str, Any], secrets: Secrets, lease: Lease
) -> Completion:
    address = payload["call"]["address"]
    try:
        call: Call = wire.decode_call(payload["call"], secrets)
        if lease.deliveries > 1 and call.step == Step.CREATE:
            call = dataclasses.replace(call, adopt_first=True)  # the lost attempt may have created it
        runtime = _runtime(runtimes, payload, secrets)
    except SkyformError as exc:
        return Completion(address, error=exc)
    done = perform(call, runtime, _Publisher(app, payload["reply_to"], payload["call_id"], address, lease.worker))
    if isinstance(done.error, SoftTimeLimitExceeded):
        from .app import longest_operation

        return Completion(
            address,
            error=PermanentError(
                f"{address}: its {call.step} ran longer than {longest_operation():g}s on {lease.worker}, the longest "
                "an operation may run (SKYFORM_LONGEST_OPERATION, kept below RabbitMQ's consumer_timeout)",
                hint="raise SKYFORM_LONGEST_OPERATION on the workers and the broker's consumer_timeout together",
            ),
        )
    return done


def _take(leases: Any, call_id: str, payload: dict[str, Any], worker: str, ttl: float) -> Lease | None:
    """The lease of ``call_id``, waiting (at most a little over one ttl) for a live holder."""
    deadline = time.monotonic() + 2 * ttl + 5
    while True:
        taken = leases.take(
            call_id,
            mission=payload["mission"]["name"],
            address=payload["call"]["address"],
            step=payload["call"]["step"],
            queue=payload["queue"],
            worker=worker,
            ttl=ttl,
        )
        if taken.finished:
            return None
        if taken.lease is not None:
            return taken.lease
        if time.monotonic() > deadline:
            raise PermanentError(f"the lease of {payload['call']['address']} stays held by {taken.holder}")
        time.sleep(min(max(taken.wait, 0.05), 1.0))


@contextmanager
def _heartbeat(leases: Any, lease: Lease, ttl: float) -> Iterator[None]:
    """Renew ``lease`` every third of its ttl while the operation runs."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(ttl / 3):
            try:
                if not leases.renew(lease.call_id, lease.token, ttl):
                    return  # taken over or finished: our result will be refused anyway
            except Exception:  # a database hiccup: try again at the next beat
                continue

    thread = threading.Thread(target=beat, name="skyform-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _open_store(url: str, mission_source: Path) -> Any:
    from ..providers.host import load_registry
    from ..state import open_store

    directory = mission_source if mission_source.is_dir() else mission_source.parent
    return open_store(url, directory, load_registry().state_backends.values())


def _runtime(runtimes: dict[tuple[str, str, str], Any], payload: dict[str, Any], secrets: Secrets) -> Any:
    """The mission's runtime in this worker process: loaded once per (path, digest, sandbox)."""
    from ..api import load
    from ..runtime import Runtime

    mission_info = payload["mission"]
    sandbox = payload.get("sandbox")
    key = (mission_info["source"], mission_info["digest"], json.dumps(sandbox, sort_keys=True))
    runtime = runtimes.get(key)
    if runtime is not None:
        return runtime
    from ..providers.host import load_registry

    registry = load_registry()
    mission, _ = load(mission_info["source"], registry, secrets=secrets)
    if mission.digest != mission_info["digest"]:
        raise PermanentError(
            f"this worker sees another version of the mission at {mission_info['source']} "
            f"(digest {mission.digest[:19]}, the coordinator's {mission_info['digest'][:19]})",
            hint="check out the same commit on the workers as on the machine running apply",
        )
    mission.name = mission_info["name"]
    runtime = Runtime(mission, registry, secrets, sandbox_settings=sandbox)
    runtimes[key] = runtime
    return runtime
