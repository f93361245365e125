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
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..apply.calls import Call, Completion
from ..apply.executor import ExecutorContext, LocalExecutor, Report
from ..apply.node import Step
from ..errors import BrokerError, SkyformError
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
            self.pending: dict[str, tuple[Call, Reporter, Report]] = {}
            self._lock = threading.Lock()
            self.state_url = for_workers(url)
            self.listener = replies.ReplyListener(self.app, replies.reply_queue_name(), self._on_reply)
            self.listener.start()
        except BaseException:
            self._store.close()
            raise

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
            self.pending[call_id] = (call, reporter, report)
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
        address, worker = str(body.get("address")), str(body.get("worker"))
        if kind == "completion":
            token = int(body.get("token") or 0)
            if entry is None:
                return self._refused(address, worker, token)
            try:
                accepted = self._accept(call_id, token)
            except SkyformError as exc:  # the state database is gone: the walk fails the node
                with self._lock:
                    self.pending.pop(call_id, None)
                entry[2](Completion(address, error=exc))
                return
            if not accepted:
                return self._refused(address, worker, token)
            with self._lock:
                self.pending.pop(call_id, None)
            entry[2](wire.decode_completion(body["body"]))
            return
        if entry is None:
            return
        if kind == "started":
            self.emit(
                {
                    "event": EventKind.DISPATCHED,
                    "address": address,
                    "step": str(entry[0].step),
                    "worker": worker,
                    "queue": body.get("queue"),
                    "delivery": body.get("delivery"),
                    "token": body.get("token"),
                }
            )
        elif kind == "progress":
            entry[1].progress(body.get("fraction"), str(body.get("message") or ""))
        elif kind == "warning":
            entry[1].warn(str(body.get("message") or ""))

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
        self.local.shutdown()
        self.listener.stop()
        self._store.close()
