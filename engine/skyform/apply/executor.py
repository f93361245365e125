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

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
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
