"""A provider's log lines during an apply, routed to the resource whose call wrote them.

Providers log through ``ctx.log`` (the ``skyform.provider`` logger and its children). While
an apply runs, :func:`tapped` lowers that logger to INFO and catches its records: each one
goes to the :class:`~skyform.providers.base.Reporter` of the call running in that thread
(:data:`CURRENT`, set by :func:`skyform.apply.calls.perform`), which hands it to the live
log beside the graph. What the terminal showed before (records at the level it had) is
passed on to the parent's handlers unchanged, so tapping adds no line to the output.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..providers.base import Reporter

LOGGER = "skyform.provider"
#: the reporter of the provider call running in this thread (None outside a call)
CURRENT: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar("skyform_reporter", default=None)

_lock = threading.Lock()
_users = 0
_saved: tuple[int, bool] = (logging.NOTSET, True)


class _Tap(logging.Handler):
    """Hands each record to the running call's reporter, then to the handlers it reached before."""

    def __init__(self, passed_level: int) -> None:
        super().__init__(logging.INFO)
        self.passed_level = passed_level

    def emit(self, record: logging.LogRecord) -> None:
        reporter = CURRENT.get()
        if reporter is not None:
            try:
                reporter.log(record.levelname.lower(), record.getMessage())
            except Exception:  # a log line must never fail the call that wrote it
                self.handleError(record)
        parent = logging.getLogger(LOGGER).parent
        if record.levelno >= self.passed_level and parent is not None:
            parent.handle(record)


_tap: _Tap | None = None


@contextmanager
def tapped() -> Iterator[None]:
    """Catch provider log lines for the length of the block (nested and concurrent applies
    of one process share one tap; the last one out restores the logger)."""
    global _users, _saved, _tap
    logger = logging.getLogger(LOGGER)
    with _lock:
        if _users == 0:
            _saved = (logger.level, logger.propagate)
            _tap = _Tap(logger.getEffectiveLevel())
            logger.addHandler(_tap)
            logger.setLevel(min(logging.INFO, logger.getEffectiveLevel()))
            logger.propagate = False  # the tap passes on what propagated before
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _tap is not None:
                logger.removeHandler(_tap)
                logger.setLevel(_saved[0])
                logger.propagate = _saved[1]
                _tap = None
