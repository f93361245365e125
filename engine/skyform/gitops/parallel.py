"""Missions side by side (``gitops plan|apply --jobs N``): a pool, results in mission order.

Why threads, not processes: a mission is I/O-bound (HTTP calls, and waits that are timers,
never sleeping threads), and everything a mission touches is already safe to share between
threads - each mission has its own :class:`skyform.api.Session` (its own state store and
connections, its own provider clients) and its own lock row in state, SQLite gives each
thread its own connection and serialises writers (``BEGIN IMMEDIATE``, a busy timeout),
and the plugin registry is only read. Threads keep what processes would lose: one Ctrl-C
or reconcile shutdown reaching every running scheduler, and no re-import per mission.
Work that must leave the machine goes through ``--executor celery`` instead.

Order is stable whatever finishes first: results are handed on (``on_result``) in the
missions' order, each as soon as every mission before it is done, so the text output never
interleaves and equals a ``--jobs 1`` run's. A failing mission does not stop the others;
with ``fail_fast`` no mission is started after the first failure, and those not started are
reported as ``not_run`` with the mission that stopped them. :class:`Turns` lets each
mission pass one point (claiming its ``metadata.name``) in mission order, so which of two
directories using one name is refused does not depend on timing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from .report import MissionReport

RunOne = Callable[[str], MissionReport]


class Turns:
    """Each key passes one point in the given order: :meth:`wait` returns once every earlier
    key has :meth:`passed` (a key that never gets there must still call it, in a ``finally``).
    A key not in the order passes freely."""

    def __init__(self, order: Sequence[str]) -> None:
        self._index = {key: i for i, key in enumerate(order)}
        self._passed: set[int] = set()
        self._next = 0  # every index below it has passed
        self._cond = threading.Condition()

    def wait(self, key: str) -> None:
        index = self._index.get(key)
        if index is None:  # not in the order (a single mission): nobody to wait for
            return
        with self._cond:
            self._cond.wait_for(lambda: self._next >= index)

    def passed(self, key: str) -> None:
        if key not in self._index:
            return
        with self._cond:
            self._passed.add(self._index[key])
            while self._next in self._passed:
                self._next += 1
            self._cond.notify_all()


class Schedulers:
    """The schedulers of the running applies, so one stop request reaches all of them.

    ``interrupt()`` only sets a flag on each scheduler (in-flight calls finish and are
    recorded), so it is safe from a signal handler; a scheduler attached after the stop is
    interrupted at once, so a mission still planning does not start applying.
    """

    def __init__(self, forward: Callable[[Any], None] | None = None) -> None:
        self.forward = forward
        self.stopping = False
        self.running: list[Any] = []

    def attach(self, scheduler: Any) -> None:
        self.running.append(scheduler)
        if self.forward is not None:
            self.forward(scheduler)
        if self.stopping:
            scheduler.interrupt()

    def stop(self) -> None:
        self.stopping = True
        for scheduler in list(self.running):
            scheduler.interrupt()


def not_run(path: str, commit: str, because: str) -> MissionReport:
    return MissionReport(path=path, commit=commit, status="not_run", warnings=[f"not run: {because}"])


def run_all(
    paths: Sequence[str],
    run_one: RunOne,
    *,
    commit: str,
    jobs: int = 1,
    fail_fast: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
    on_result: Callable[[MissionReport], None] | None = None,
    schedulers: Schedulers | None = None,
) -> list[MissionReport]:
    """Run ``run_one`` for each path, at most ``jobs`` at a time; the reports in path order.

    A ``should_stop`` request (a runner shutting down) stops launching, and the missions not
    started are left out, as a ``--jobs 1`` run leaves them out; ``fail_fast`` lists them.
    """
    release = _InOrder(paths, on_result)
    stopped_by: str | None = None
    if jobs <= 1:  # in the calling thread, exactly as before --jobs existed
        for path in paths:
            if should_stop():
                break
            if stopped_by is not None:
                release.add(path, not_run(path, commit, f"--fail-fast stopped the run after {stopped_by} failed"))
                continue
            result = run_one(path)
            release.add(path, result)
            if fail_fast and result.status == "failed":
                stopped_by = path
        return release.results()
    pending = list(paths)
    running: dict[Future[MissionReport], str] = {}
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="gitops-mission") as pool:
        try:
            while pending or running:
                while pending and len(running) < jobs and stopped_by is None and not should_stop():
                    path = pending.pop(0)
                    running[pool.submit(run_one, path)] = path
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: paths.index(running[f])):
                    path = running.pop(future)
                    result = future.result()  # run_one reports a mission's errors; anything else is a bug
                    release.add(path, result)
                    if fail_fast and result.status == "failed" and stopped_by is None:
                        stopped_by = path
        except BaseException:  # Ctrl-C in the waiting thread: stop every apply, let them record, re-raise
            if schedulers is not None:
                schedulers.stop()
            pending.clear()
            wait(running)
            raise
    if stopped_by is not None:
        for path in pending:
            release.add(path, not_run(path, commit, f"--fail-fast stopped the run after {stopped_by} failed"))
    return release.results()


class _InOrder:
    """Collects results as they finish and hands each on once every earlier one is in."""

    def __init__(self, paths: Sequence[str], on_result: Callable[[MissionReport], None] | None) -> None:
        self.order = list(paths)
        self.done: dict[str, MissionReport] = {}
        self.next = 0
        self.on_result = on_result

    def add(self, path: str, result: MissionReport) -> None:
        self.done[path] = result
        while self.next < len(self.order) and self.order[self.next] in self.done:
            if self.on_result is not None:
                self.on_result(self.done[self.order[self.next]])
            self.next += 1

    def results(self) -> list[MissionReport]:
        return [self.done[p] for p in self.order if p in self.done]
