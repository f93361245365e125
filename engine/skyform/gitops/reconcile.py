"""``skyform reconcile``: a long-running runner that keeps a repository's missions applied.

Each round fetches the repository, plans every mission and applies those with changes
(one gitops apply), hands the round's per-mission summaries to the observer hook
``skyform_reconcile_round``, then sleeps for the interval. A round that fails (git
unreachable, state locked) is logged, reported to the hook and retried next round.

Shutdown: SIGTERM or SIGINT asks the runner to stop; the current mission's apply stops
dispatching new work, lets in-flight provider calls finish and writes state (the engine's
own interrupt), no further mission starts, and the runner exits between steps - never in
the middle of a state write. A second signal while stopping is ignored, for the same reason.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..errors import Interrupted, SkyformError, UsageError
from .report import RunReport
from .runner import Request, run

log = logging.getLogger(__name__)
_DURATION = re.compile(r"^(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d))+$|^[0-9]+(?:\.[0-9]+)?$")


def parse_interval(text: str) -> float:
    """Seconds from ``30s``, ``5m``, ``1h30m`` or a bare number of seconds."""
    from ..spec.envelope import parse_duration

    text = text.strip()
    if not _DURATION.match(text):
        raise UsageError(f"--interval {text!r} is not a duration", hint="e.g. 30s, 5m, 1h30m")
    return float(text) if re.fullmatch(r"[0-9.]+", text) else parse_duration(text)


class Shutdown:
    """A stop request shared by the signal handlers, the sleep and the running apply.

    A signal handler runs in the main thread between two bytecodes, possibly while that
    thread holds a lock; so the handler only sets a flag and calls the scheduler's
    ``interrupt()`` (which only sets a flag), never anything that takes a lock such as
    ``threading.Event.set()``. The sleep between rounds polls the flag.
    """

    POLL_S = 0.2

    def __init__(self) -> None:
        self.requested = False
        self.schedulers: list[Any] = []  # this round's (several with --jobs)

    def request(self) -> None:
        if self.requested:
            return
        self.requested = True
        for scheduler in list(self.schedulers):
            scheduler.interrupt()  # stop dispatching; in-flight calls finish and state is written

    def attach(self, scheduler: Any) -> None:
        self.schedulers.append(scheduler)
        if self.requested:
            scheduler.interrupt()

    def sleep(self, seconds: float) -> None:
        """Sleep up to ``seconds``, returning soon after a stop request."""
        deadline = time.monotonic() + seconds
        while not self.requested:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(self.POLL_S, left))

    def install(self) -> Callable[[], None]:
        """Handle SIGTERM and SIGINT (main thread only); returns a function restoring the old handlers."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

        def handler(signum: int, _frame: Any) -> None:
            self.request()
            # os.write, not logging: logging takes locks the interrupted code may hold.
            os.write(2, f"{signal.Signals(signum).name}: stopping after the current step\n".encode())

        for sig in previous:
            signal.signal(sig, handler)

        def restore() -> None:
            for sig, old in previous.items():
                signal.signal(sig, old)

        return restore


def round_results(report: RunReport | None, error: BaseException | None) -> list[dict[str, Any]]:
    """The per-mission summaries the observer hook receives (one failed entry for a failed round)."""
    if report is not None:
        return [dict(m.to_json(), repository=report.repository) for m in report.missions]
    message = error.message if isinstance(error, SkyformError) else f"{type(error).__name__}: {error}"
    return [{"path": None, "mission": None, "result": "failed", "errors": [message]}]


def notify(registry: Any, repository: str, results: list[dict[str, Any]]) -> None:
    """Call every ``skyform_reconcile_round`` implementation; one that raises is logged and skipped."""
    if registry is None:
        return
    registry.hooks.reconcile_round(repository=repository, results=results)


class Reconciler:
    """Repeats a gitops apply every ``interval`` seconds until told to stop."""

    def __init__(
        self,
        request: Request,
        *,
        interval: float,
        registry: Any = None,
        on_round: Callable[[int, RunReport | None, BaseException | None], None] | None = None,
        emit: Callable[[dict[str, Any]], None] | None = None,
        max_rounds: int | None = None,
    ) -> None:
        self.request = replace(request, apply=True)
        self.interval = interval
        self.registry = registry
        self.on_round = on_round
        self.emit = emit or (lambda _event: None)
        self.max_rounds = max_rounds
        self.shutdown = Shutdown()

    def run_round(self) -> tuple[RunReport | None, BaseException | None]:
        """One fetch/plan/apply pass; its failure is returned, not raised."""
        try:
            report = run(
                self.request,
                registry=self.registry,
                emit=self.emit,
                should_stop=lambda: self.shutdown.requested,
                on_scheduler=self.shutdown.attach,
            )
            return report, None
        except Interrupted as exc:
            return None, exc
        except Exception as exc:
            if not isinstance(exc, SkyformError):
                log.exception("reconcile round failed with an internal error")
            return None, exc
        finally:
            self.shutdown.schedulers = []

    def run(self) -> int:
        """Run rounds until a signal (or ``max_rounds``); the exit code of the last round."""
        restore = self.shutdown.install()
        code = 0
        rounds = 0
        try:
            while not self.shutdown.requested:
                rounds += 1
                started = time.monotonic()
                report, error = self.run_round()
                if error is not None and not isinstance(error, Interrupted):
                    log.error(
                        "reconcile round %d failed: %s",
                        rounds,
                        error.message if isinstance(error, SkyformError) else error,
                    )
                code = report.exit_code() if report is not None else (0 if isinstance(error, Interrupted) else 1)
                notify(
                    self.registry,
                    report.repository if report else self.request.repository,
                    round_results(report, error),
                )
                if self.on_round:
                    self.on_round(rounds, report, error)
                if self.max_rounds is not None and rounds >= self.max_rounds:
                    break
                self.shutdown.sleep(max(0.0, self.interval - (time.monotonic() - started)))
        finally:
            restore()
        return code
