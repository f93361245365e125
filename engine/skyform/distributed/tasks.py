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
  limits and comes back as a failure of its resource (:class:`~skyform.errors.OperationTimeLimit`):
  the soft limit inside the task, the hard one (the pool process is killed) from the worker's
  main process (:class:`OperateRequest`), fenced by the lease that process still holds.
- Every worker process says it is alive (``workers`` table, every :func:`heartbeat_interval`
  seconds) in each state database it served, and the main process in the one ``--state``
  names: the coordinator tells "queued behind busy workers" from "nobody serves the queue".

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
from celery.worker.request import Request

from .. import redact
from ..apply import providerlog
from ..apply.calls import Call, Completion, perform
from ..apply.node import Step
from ..errors import OperationTimeLimit, PermanentError, SkyformError
from ..providers.base import Reporter
from ..spec.secrets import Secrets
from ..state.leases import Lease
from . import replies, wire
from .heartbeat import Beacon

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


class OperateRequest(Request):  # celery ships no type hints: Request is Any to mypy
    """The worker's main-process view of one ``skyform.operate`` message.

    At the hard time limit Celery kills the pool process and acknowledges the message as
    failed, so nothing would reach the coordinator: this sends the completion instead,
    fenced with the lease the killed process held.
    """

    def on_timeout(self, soft: bool, timeout: float) -> None:
        super().on_timeout(soft, timeout)
        if soft:
            return  # the task itself reports it (see _run)
        try:
            report_time_limit(self.task.app, self.args[0], str(self.hostname), timeout)
        except Exception:  # best effort: the coordinator's --worker-timeout catches what this misses
            pass


def report_time_limit(app: Celery, payload: dict[str, Any], worker: str, timeout: float) -> None:
    """Tell the coordinator that ``payload``'s operation was stopped at a time limit, fenced
    with the lease ``worker`` holds (nothing when it holds none: no one else is told twice)."""
    settings: WorkerSettings = app.conf.skyform_worker
    url = settings.state or payload["state"]
    store = _open_store(url, Path(payload["mission"]["source"]))
    try:
        lease = store.leases().get(payload["call_id"])
    finally:
        store.close()
    if lease is None or lease.finished_at is not None or lease.worker != worker:
        return  # taken over, or answered: not ours to report
    address, step = payload["call"]["address"], payload["call"]["step"]
    error = _time_limit_error(address, step, worker, timeout)
    replies.publish(
        app,
        payload["reply_to"],
        {
            "call_id": payload["call_id"],
            "address": address,
            "worker": worker,
            "kind": "completion",
            "token": lease.token,
            "body": wire.encode_completion(Completion(address, error=error)),
        },
    )


def _time_limit_error(address: str, step: str, worker: str, seconds: float) -> OperationTimeLimit:
    return OperationTimeLimit(
        f"{address}: its {step} ran longer than {seconds:g}s on {worker} and was stopped: the longest "
        "an operation may run (SKYFORM_LONGEST_OPERATION, kept below RabbitMQ's consumer_timeout)",
        hint="raise SKYFORM_LONGEST_OPERATION on the workers and the broker's consumer_timeout together; "
        "apply again adopts what the stopped attempt made",
    )


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

    def phase(self, name: str) -> None:
        self._send({"kind": "phase", "phase": redact.redact(name)})

    def log(self, level: str, message: str) -> None:
        self._send({"kind": "log", "level": level, "message": redact.redact(message)})

    def _send(self, body: dict[str, Any]) -> None:
        try:
            replies.publish(self.app, self.reply_to, {**self.base, **body})
        except Exception:  # progress is best effort: the operation goes on
            pass


class OperateTask(Task):  # celery ships no type hints: Task is Any to mypy
    """The task class: caches per worker process (state stores, loaded missions)."""

    name = TASK_NAME
    Request = OperateRequest
    _stores: dict[str, Any]
    _runtimes: dict[tuple[str, str, str], Any]
    _beacon: Beacon

    def cached(self) -> tuple[dict[str, Any], dict[tuple[str, str, str], Any]]:
        if not hasattr(self, "_stores"):
            self._stores, self._runtimes = {}, {}
        return self._stores, self._runtimes

    def beacon(self, worker: str, queues: list[str]) -> Beacon:
        """This process's heartbeat over the stores it holds, started once per process."""
        if not hasattr(self, "_beacon"):
            self._beacon = Beacon(worker, queues, self.cached()[0])
        self._beacon.start()
        return self._beacon


def register(app: Celery) -> None:
    """Add ``skyform.operate`` to ``app``."""

    @app.task(bind=True, base=OperateTask, name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)
    def operate(self: OperateTask, payload: dict[str, Any]) -> None:
        run_operation(self, payload)


def run_operation(task: OperateTask, payload: dict[str, Any]) -> None:
    """The body of ``skyform.operate`` (see the module docstring)."""
    try:
        _operate(task, payload)
    except SoftTimeLimitExceeded:  # outside the provider's code: taking the lease, loading, replying
        from .app import longest_operation

        report_time_limit(task.app, payload, str(task.request.hostname or ""), longest_operation())


def _operate(task: OperateTask, payload: dict[str, Any]) -> None:
    app = task.app
    settings: WorkerSettings = app.conf.skyform_worker
    worker = str(task.request.hostname or f"skyform-{os.getpid()}@{socket.gethostname()}")
    call_data, call_id, reply_to = payload["call"], payload["call_id"], payload["reply_to"]
    address = call_data["address"]

    def reply(body: dict[str, Any]) -> None:
        replies.publish(app, reply_to, {"call_id": call_id, "address": address, "worker": worker, **body})

    try:  # heard of at once: loading the mission may take a while on a cold worker
        reply({"kind": "received"})
    except Exception:  # best effort, like progress
        pass
    stores, runtimes = task.cached()
    url = settings.state or payload["state"]
    ttl = lease_ttl()
    try:
        store = stores.get(url)
        if store is None:
            store = stores[url] = _open_store(url, Path(payload["mission"]["source"]))
        leases = store.leases()
        leases.seen(worker, host=socket.gethostname(), pid=os.getpid(), queues=settings.queues)
        task.beacon(worker, settings.queues)
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
        done = _run(app, runtimes, payload, secrets, lease, store)
    reply({"kind": "completion", "token": lease.token, "body": wire.encode_completion(done)})


def _run(
    app: Celery,
    runtimes: dict[tuple[str, str, str], Any],
    payload: dict[str, Any],
    secrets: Secrets,
    lease: Lease,
    store: Any,
) -> Completion:
    address = payload["call"]["address"]
    try:
        call: Call = wire.decode_call(payload["call"], secrets)
        if lease.deliveries > 1 and call.step == Step.CREATE:
            call = dataclasses.replace(call, adopt_first=True)  # the lost attempt may have created it
        runtime = _runtime(runtimes, payload, secrets)
        _see_inputs(runtime, store, payload["mission"]["name"])
    except SkyformError as exc:
        return Completion(address, error=exc)
    with providerlog.tapped():  # the provider's log lines reach the coordinator's live log
        done = perform(call, runtime, _Publisher(app, payload["reply_to"], payload["call_id"], address, lease.worker))
    if _stopped_by_limit(done.error):
        from .app import longest_operation

        return Completion(address, error=_time_limit_error(address, str(call.step), lease.worker, longest_operation()))
    return done


def _stopped_by_limit(error: BaseException | None) -> bool:
    """Whether Celery's soft time limit is what ended the operation (raised inside it, maybe
    wrapped by a provider: ``cannot connect: SoftTimeLimitExceeded()``)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, SoftTimeLimitExceeded):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _see_inputs(runtime: Any, store: Any, mission: str) -> None:
    """Fill ``ctx.inputs`` from the mission's records as the coordinator wrote them: the files a
    ``local.Files`` set published (path -> digest), so an upload on a machine without the
    photos reads them from the artifact store, each verified by its sha256
    (:meth:`~skyform.providers.base.OperationContext.local_file`). Read per operation: a set
    published since the last one is seen."""
    from ..artifacts.references import published_files

    found = published_files(store.resources(mission).values())
    runtime.inputs.update(found)
    for gone in set(runtime.inputs) - set(found):
        runtime.inputs.pop(gone, None)


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
