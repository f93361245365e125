"""The ``celery`` executor: operations go to workers, the walk and the state stay here.

Create, update and delete (the uploads) are sent as ``skyform.operate`` tasks to the queue
their resource names (``lifecycle.queue``), else their provider's (``settings.queues``),
else ``default``; so are the polls of kinds whose poll downloads products
(``ResourceKind.poll_on_workers``: NodeODM's all.zip). Other polls and cancels stay on a
local thread pool (a poll is cheap, and long waiting never sits inside a task: the wait
between polls is the coordinator's timer). Completions
come back on this apply's reply queue (:mod:`.replies`) and are handed to the walk only
when their lease token is still the current one (:meth:`~skyform.state.leases.Leases.finish`):
a stale worker's late result is refused with a warning, and the walk waits for the worker
that holds the operation now.

Waiting is bounded (``--worker-timeout``, :data:`DEFAULT_WORKER_TIMEOUT`): a watchdog looks at
every operation nothing was heard of for that long. While a worker holds its lease (renewed
by heartbeat) it is running, however long; while a worker that serves its queue was seen
recently (workers' heartbeats in the state database) it is queued behind other work. A
worker started without ``--state`` marks itself only in the databases it already served,
so for an operation no worker took yet the broker is asked too (Celery's remote control,
``active_queues``): a worker that consumes the queue means "queued", and the wait goes on,
warned, for as long as one does. With neither - nobody consumes the queue, or the worker
that held the operation went silent and nobody took it over - the operation is closed in
the lease table (a worker that gets the message later skips it) and its resource fails
with :class:`~skyform.errors.WorkerTimeout`, naming the queue and the workers seen.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..apply.calls import Call, Completion
from ..apply.executor import ExecutorContext, LocalExecutor, Report
from ..apply.node import Step
from ..errors import BrokerError, SkyformError, WorkerTimeout
from ..events import EventKind
from ..providers.base import Reporter
from ..spec.mission import Mission
from . import replies, wire
from .app import DEFAULT_QUEUE, check_broker, make_app, shown
from .tasks import TASK_NAME

#: Seconds a lease row is kept after its last use (well past any redelivery).
LEASE_RETENTION = 86400.0
#: Steps that run on workers; the others (poll, cancel) stay in the coordinator.
REMOTE_STEPS = frozenset({Step.CREATE, Step.UPDATE, Step.DELETE})
#: Seconds the coordinator waits for a worker to take (or keep) an operation (``--worker-timeout``).
DEFAULT_WORKER_TIMEOUT = 300.0
#: Seconds the coordinator waits for workers to say which queues they consume.
CONSUMERS_PROBE_TIMEOUT = 2.0


@dataclass
class _Inflight:
    """An operation sent to the workers and not answered yet."""

    call: Call
    reporter: Reporter
    report: Report
    queue: str
    heard_at: float  # when the coordinator last heard of it (sent, started, progress, a live lease)
    worker: str = ""
    warned: bool = False


def queue_for(call: Call, mission: Mission) -> str:
    """The worker queue of ``call``: its resource's, else its provider's, else ``default``."""
    named = call.lifecycle.get("queue")
    if named:
        return str(named)
    by_provider = mission.settings.get("queues") or {}
    return str(by_provider.get(call.type.partition(".")[0]) or DEFAULT_QUEUE)


def for_workers(url: str) -> str:
    """The state URL as sent to workers: without its password (they bring their own)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = (parts.username or "") + "@" + (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class CeleryExecutor:
    """Sends operations to ``skyform worker`` processes (see the module docstring)."""

    def __init__(self, context: ExecutorContext) -> None:
        from ..state import open_store

        runtime = context.runtime
        self.runtime, self.mission, self.emit = runtime, runtime.mission, context.emit
        self.app = make_app(context.options.get("broker"))
        check_broker(self.app)
        url = context.store.url
        # the reply thread fences results on a connection of its own
        self._store = open_store(url, self.mission.directory, runtime.registry.state_backends.values())
        try:
            self.leases = self._store.leases()
            # a day after their last use, no broker redelivers an operation any more
            self.leases.forget(self.mission.name, time.time() - LEASE_RETENTION)
            self.local = LocalExecutor(runtime, context.parallelism)
            self.pending: dict[str, _Inflight] = {}
            self._lock = threading.Lock()
            self.state_url = for_workers(url)
            self.worker_timeout = float(context.options.get("worker_timeout") or DEFAULT_WORKER_TIMEOUT)
            self.listener = replies.ReplyListener(self.app, replies.reply_queue_name(), self._on_reply)
            self.listener.start()
        except BaseException:
            self._store.close()
            raise
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="skyform-worker-timeout", daemon=True)
        self._watchdog.start()

    def submit(self, call: Call, reporter: Reporter, report: Report) -> None:
        if not self._on_workers(call):
            self.local.submit(call, reporter, report)
            return
        call_id = uuid.uuid4().hex
        queue = queue_for(call, self.mission)
        try:
            payload = {
                "v": 1,
                "call_id": call_id,
                "reply_to": self.listener.name,
                "queue": queue,
                "state": self.state_url,
                "mission": {
                    "source": str(self.mission.source or self.mission.directory),
                    "digest": self.mission.digest,
                    "name": self.mission.name,
                },
                "sandbox": self.runtime.sandbox_settings,
                "call": wire.encode_call(call, self.runtime.secrets),
            }
        except SkyformError as exc:
            report(Completion(call.address, error=exc))
            return
        with self._lock:
            self.pending[call_id] = _Inflight(call, reporter, report, queue, time.time())
        try:
            self.app.send_task(TASK_NAME, args=[payload], queue=queue, routing_key=queue)
        except Exception as exc:  # kombu's transport errors
            with self._lock:
                self.pending.pop(call_id, None)
            broker = shown(str(self.app.conf.broker_url))
            error = BrokerError(f"cannot send {call.address}'s {call.step} to {broker}: {exc}")
            report(Completion(call.address, error=error))

    def _on_workers(self, call: Call) -> bool:
        if call.step in REMOTE_STEPS:
            return True
        if call.step == Step.POLL:  # a poll that downloads products runs where creates run
            _, kind = self.runtime.kind(call.type)
            return bool(kind.poll_on_workers)
        return False

    def _on_reply(self, body: dict[str, Any]) -> None:
        call_id, kind = str(body.get("call_id")), body.get("kind")
        with self._lock:
            entry = self.pending.get(call_id)
            if entry is not None:
                entry.heard_at = time.time()
        address, worker = str(body.get("address")), str(body.get("worker"))
        if kind == "completion":
            token = int(body.get("token") or 0)
            if entry is None:
                return self._refused(address, worker, token)
            try:
                accepted = self._accept(call_id, token)
            except SkyformError as exc:  # the state database is gone: the walk fails the node
                if self._take(call_id):
                    entry.report(Completion(address, error=exc))
                return
            if not accepted:
                return self._refused(address, worker, token)
            if self._take(call_id):
                entry.report(wire.decode_completion(body["body"]))
            return
        if entry is None:
            return
        if kind == "started":
            entry.worker = worker
            self.emit(
                {
                    "event": EventKind.DISPATCHED,
                    "address": address,
                    "step": str(entry.call.step),
                    "worker": worker,
                    "queue": body.get("queue"),
                    "delivery": body.get("delivery"),
                    "token": body.get("token"),
                }
            )
        elif kind == "progress":
            entry.reporter.progress(body.get("fraction"), str(body.get("message") or ""))
        elif kind == "warning":
            entry.reporter.warn(str(body.get("message") or ""))
        elif kind == "phase":
            entry.reporter.phase(str(body.get("phase") or ""))
        elif kind == "log":
            entry.reporter.log(str(body.get("level") or "info"), str(body.get("message") or ""))

    def _take(self, call_id: str) -> bool:
        """Remove ``call_id`` from the pending calls: True for the one caller that reports it."""
        with self._lock:
            return self.pending.pop(call_id, None) is not None

    # -- bounded waits ------------------------------------------------------------------------
    def _watch(self) -> None:
        tick = min(5.0, max(0.1, self.worker_timeout / 10))
        while not self._stop.wait(tick):
            try:
                self.check_waits()
            except Exception:  # a database hiccup: look again at the next tick
                continue

    def check_waits(self, now: float | None = None) -> None:
        """Fail the operations nobody took or kept for ``worker_timeout`` (see the module docstring)."""
        now = time.time() if now is None else now
        with self._lock:
            quiet = [(cid, e) for cid, e in self.pending.items() if now - e.heard_at > self.worker_timeout]
        if not quiet:
            return
        seen = self.leases.workers()
        consumers: dict[str, list[str]] = {}  # queue -> workers the broker says consume it, asked once a check
        for call_id, entry in quiet:
            lease = self.leases.get(call_id)
            if lease is not None and lease.finished_at is not None:
                continue  # its result was accepted: the reply is on its way to the walk
            if lease is not None and lease.token and lease.expires_at > now:
                entry.heard_at = now  # a worker holds it and renews its lease: it is running
                continue
            taken = lease is not None and lease.token
            serving = [w.name for w in seen if entry.queue in w.queues and now - w.seen_at <= self.worker_timeout]
            if not serving and not taken:
                # workers started without --state report to no database they have not served
                # yet: the broker knows who consumes the queue
                if entry.queue not in consumers:
                    consumers[entry.queue] = self._consumers(entry.queue)
                    seen = self.leases.workers()  # as they are after the probe's wait, for the message
                serving = consumers[entry.queue]
                if serving:
                    entry.heard_at = now  # ask the broker again after another worker_timeout
            if serving and not taken:
                if not entry.warned:  # queued behind other work on live workers: keep waiting
                    entry.warned = True
                    entry.reporter.warn(
                        f"no worker has taken it from queue {entry.queue} for {self.worker_timeout:g}s; "
                        f"waiting: {', '.join(serving)} serve it and are busy"
                    )
                continue
            if not self.leases.abandon(
                call_id,
                mission=self.mission.name,
                address=entry.call.address,
                step=str(entry.call.step),
                queue=entry.queue,
                now=now,
            ):
                continue  # a worker took it just now
            if self._take(call_id):
                entry.report(Completion(entry.call.address, error=self._timeout(entry, lease, seen)))

    def _consumers(self, queue: str) -> list[str]:
        """The workers that consume ``queue``, as they answer Celery's remote control (none
        when the broker or the workers do not answer within :data:`CONSUMERS_PROBE_TIMEOUT`)."""
        try:
            answers = self.app.control.inspect(timeout=CONSUMERS_PROBE_TIMEOUT).active_queues() or {}
        except Exception:  # the broker is unreachable: the reply listener reports that
            return []
        return sorted(w for w, queues in answers.items() if any(q.get("name") == queue for q in queues or ()))

    def _timeout(self, entry: _Inflight, lease: Any, seen: list[Any]) -> WorkerTimeout:
        what, queue, limit = f"{entry.call.address}'s {entry.call.step}", entry.queue, self.worker_timeout
        broker = shown(str(self.app.conf.broker_url))
        if lease is not None and lease.token:
            return WorkerTimeout(
                f"{what} stopped on worker {lease.worker} (its lease lapsed) and no worker took it over in {limit:g}s",
                hint=f"start a worker: skyform worker --queues {queue} --broker {broker}; apply again adopts "
                "what the lost attempt made",
            )
        others = sorted({q for w in seen for q in w.queues if now_seen(w, limit)})
        heard = f"workers seen serve {', '.join(others)}" if others else f"no worker was seen in the last {limit:g}s"
        return WorkerTimeout(
            f"no worker took {what} from queue {queue} in {limit:g}s ({heard})",
            hint=f"start one: skyform worker --queues {queue} --broker {broker}; or check the queue name "
            "(lifecycle.queue, settings.queues); --worker-timeout SECONDS waits longer",
        )

    def _accept(self, call_id: str, token: int) -> bool:
        """The fence: the current token's result, once; an unfenced one (token 0: the worker
        could not reach the state database) only while no worker holds the call."""
        if token:
            return self.leases.finish(call_id, token)
        lease = self.leases.get(call_id)
        return lease is None or lease.token == 0

    def _refused(self, address: str, worker: str, token: int) -> None:
        self.emit(
            {
                "event": EventKind.WARNING,
                "address": address,
                "message": f"refused a late result of {address} from {worker}: its lease "
                f"(token {token}) was taken over or its result already accepted",
            }
        )

    def shutdown(self) -> None:
        self._stop.set()
        self._watchdog.join(timeout=5)
        self.local.shutdown()
        self.listener.stop()
        self._store.close()


def now_seen(worker: Any, within: float) -> bool:
    """Whether ``worker`` (a :class:`~skyform.state.leases.WorkerSeen`) was heard of ``within`` seconds."""
    return time.time() - float(worker.seen_at) <= within
