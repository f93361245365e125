"""The coordinator's reply queue: completions and progress from workers, back to one apply.

Each apply declares its own queue (``skyform.reply.<id>``, auto-deleted with its consumer)
and names it in every operation it sends; workers publish small JSON messages to it through
the broker's default exchange - progress, a worker taking the lease, the completion. This
is Celery's own ``rpc://`` pattern, kept here so that a completion carries its lease token
and is accepted only when fenced (:mod:`skyform.state.leases`). A coordinator that dies
loses its queue; the next ``apply`` finds the write-ahead intents instead.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from celery import Celery
from kombu import Queue

#: Seconds between looks at the stop flag while no reply arrives.
_DRAIN = 0.25


def reply_queue_name() -> str:
    return f"skyform.reply.{uuid.uuid4().hex}"


def publish(app: Celery, queue: str, body: dict[str, Any]) -> None:
    """Send ``body`` to the coordinator's reply queue (from a worker)."""
    with app.producer_or_acquire() as producer:
        producer.publish(body, exchange="", routing_key=queue, serializer="json", retry=True, delivery_mode=1)


class ReplyListener:
    """A thread draining one reply queue into ``handle`` until :meth:`stop`."""

    def __init__(self, app: Celery, name: str, handle: Callable[[dict[str, Any]], None]) -> None:
        self.app, self.name, self.handle = app, name, handle
        self.queue = Queue(name, durable=False, auto_delete=True, no_ack=True)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="skyform-replies", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        """Start draining; return once the queue exists (so no early reply is lost)."""
        self._thread.start()
        if not self._ready.wait(timeout) or self._failed is not None:
            raise self._failed or TimeoutError(f"the reply queue {self.name} was not declared in {timeout}s")

    def _run(self) -> None:
        try:
            with self.app.connection_for_read() as conn:
                self.queue(conn.default_channel).declare()
                with conn.Consumer(self.queue, callbacks=[self._on_message], accept=["json"], no_ack=True):
                    self._ready.set()
                    while not self._stop.is_set():
                        try:
                            conn.drain_events(timeout=_DRAIN)
                        except TimeoutError:  # socket.timeout: nothing arrived
                            pass
        except BaseException as exc:  # handed to start(), or ends the listener
            self._failed = exc
            self._ready.set()

    def _on_message(self, body: Any, message: Any) -> None:
        if isinstance(body, dict):
            self.handle(body)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
