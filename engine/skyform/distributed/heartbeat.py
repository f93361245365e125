"""A worker says it is alive: its name and queues in the state databases it serves.

The coordinator's ``--worker-timeout`` tells an operation queued behind busy workers from
one nobody serves by these marks (the ``workers`` table, :meth:`~skyform.state.leases.Leases.seen`),
and ``skyform status`` lists them. Each worker process beats into every state store it
holds (the ones it served operations for), and ``skyform worker --state`` beats from the
start, before any operation came.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any


def heartbeat_interval() -> float:
    """Seconds between a worker's "alive" marks (``SKYFORM_WORKER_HEARTBEAT``, default 10):
    well below the coordinator's ``--worker-timeout``."""
    return float(os.environ.get("SKYFORM_WORKER_HEARTBEAT") or 10)


class Beacon:
    """Marks this worker alive, with its queues, in every state store it holds, by heartbeat."""

    def __init__(self, worker: str, queues: list[str], stores: dict[str, Any]) -> None:
        self.worker, self.queues, self.stores = worker, queues, stores
        self._thread: threading.Thread | None = None
        self._pid = 0

    def start(self) -> None:
        """Start beating in this process (again after a fork: threads do not survive one)."""
        if self._thread is not None and self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="skyform-worker-heartbeat", daemon=True)
        self._thread.start()

    def beat(self) -> None:
        for store in list(self.stores.values()):
            try:
                store.leases().seen(self.worker, host=socket.gethostname(), pid=os.getpid(), queues=self.queues)
            except Exception:  # a database hiccup: the next beat tries again
                continue

    def _run(self) -> None:
        interval = heartbeat_interval()
        while True:
            time.sleep(interval)
            self.beat()
