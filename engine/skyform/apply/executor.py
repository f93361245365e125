"""Where provider calls run: the executor seam, and the local thread pool behind it.

The walk never waits on a provider: it hands each :class:`~.calls.Call` to an
:class:`Executor` and reads completions from its inbox. The default,
:class:`LocalExecutor`, runs calls on a bounded thread pool in this process; another
executor (a distributed task queue, issue 17) implements the same two methods, runs
:func:`~.calls.perform` wherever it likes, and reports the completion the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from ..providers.base import Reporter
from ..runtime import Runtime
from .calls import Call, Completion, perform

Report = Callable[[Completion], None]


class Executor(Protocol):
    """Runs provider calls and reports each one's completion (from any thread)."""

    def submit(self, call: Call, reporter: Reporter, report: Report) -> None:
        """Start ``call``; when it ends, ``report`` its completion exactly once."""

    def shutdown(self) -> None:
        """Wait for the calls already submitted, then release the workers."""


class LocalExecutor:
    """Provider calls on a thread pool of ``parallelism`` workers in this process."""

    def __init__(self, runtime: Runtime, parallelism: int) -> None:
        self.runtime = runtime
        self.pool = ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="skyform")

    def submit(self, call: Call, reporter: Reporter, report: Report) -> None:
        self.pool.submit(lambda: report(perform(call, self.runtime, reporter)))

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True)


#: Makes the executor of one apply from the run's providers and its parallelism.
ExecutorFactory = Callable[[Runtime, int], Executor]
