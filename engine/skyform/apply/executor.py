"""Where provider calls run: the executor seam, and the local thread pool behind it.

The walk never waits on a provider: it hands each :class:`~.calls.Call` to an
:class:`Executor` and reads completions from its inbox. The default,
:class:`LocalExecutor`, runs calls on a bounded thread pool in this process; another
executor (Celery workers: :mod:`skyform.distributed`) implements the same two methods, runs
:func:`~.calls.perform` wherever it likes, and reports the completion the same way.

Executors are plugins: an :class:`ExecutorBackend` returned by the ``skyform_executors``
hook is chosen by name (``apply --executor NAME``) and opened with an
:class:`ExecutorContext` - the run's runtime, state store and output - so that a third
party adds one (Dask, Kubernetes jobs) without touching the engine.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..providers.base import Reporter
from ..runtime import Runtime
from .calls import Call, Completion, perform

if TYPE_CHECKING:
    from ..state.base import StateStore

Report = Callable[[Completion], None]


class Executor(Protocol):
    """Runs provider calls and reports each one's completion (from any thread)."""

    def submit(self, call: Call, reporter: Reporter, report: Report) -> None:
        """Start ``call``; when it ends, ``report`` its completion exactly once."""

    def shutdown(self) -> None:
        """Wait for the calls already submitted, then release the workers."""


class LocalExecutor:
    """Provider calls on a pool of at most ``parallelism`` threads in this process.

    Not a ``concurrent.futures.ThreadPoolExecutor``: the walk wants no future (a completion
    is reported), and a future per call - its condition, its lock, the pool's shutdown locks
    and semaphore - was a fifth of the engine's own CPU per poll of thousands of waiting
    jobs. The calls wait in one C-level ``SimpleQueue``; a thread is started per call until
    there are ``parallelism`` of them, and each takes the next call when its last one ends.
    """

    def __init__(self, runtime: Runtime, parallelism: int) -> None:
        self.runtime = runtime
        self.size = max(1, parallelism)
        self.calls: queue.SimpleQueue[tuple[Call, Reporter, Report] | None] = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []

    def submit(self, call: Call, reporter: Reporter, report: Report) -> None:
        self.calls.put((call, reporter, report))
        if len(self.threads) < self.size:
            worker = threading.Thread(target=self._work, name=f"skyform_{len(self.threads)}", daemon=True)
            self.threads.append(worker)
            worker.start()

    def _work(self) -> None:
        while (item := self.calls.get()) is not None:
            call, reporter, report = item
            report(perform(call, self.runtime, reporter))

    def shutdown(self) -> None:
        for _ in self.threads:
            self.calls.put(None)  # each thread ends after the calls queued before it
        for worker in self.threads:
            worker.join()
        self.threads.clear()


#: Makes the executor of one apply from the run's providers and its parallelism.
ExecutorFactory = Callable[[Runtime, int], Executor]


@dataclass(frozen=True)
class ExecutorContext:
    """What an executor of one apply is made from (handed to :attr:`ExecutorBackend.open`).

    ``options`` holds the executor's own settings from the command line (``broker`` for
    Celery); ``emit`` sends JSON-able events to the run's output (warnings, worker events).
    """

    runtime: Runtime
    parallelism: int
    store: StateStore
    emit: Callable[[dict[str, Any]], None]
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExecutorBackend:
    """An executor a plugin offers: its name (``--executor NAME``) and how to open one."""

    name: str
    open: Callable[[ExecutorContext], Executor]
    description: str = ""


def open_local(context: ExecutorContext) -> Executor:
    """The default: provider calls on a thread pool in this process."""
    return LocalExecutor(context.runtime, context.parallelism)
