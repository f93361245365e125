"""Retrying an idempotent read in place, for steps made of several requests.

The scheduler owns retries of an operation (backoff, Retry-After, ``lifecycle.retries``),
so that a waiting request never holds a worker thread. Some steps are one unit made of many
idempotent reads: a plan-time read or adoption look, or the download of a finished job's
results (read access, a listing, one GET per file). Failing the whole step for one
transient answer throws away the reads that succeeded, and a step of ten requests under a
flaky network then almost never completes (the faults campaign saw an iTwin result download
fail through four applies). Such a step retries each read where it stands instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

from .errors import TransientError

T = TypeVar("T")

#: the longest a read waits in place; a longer Retry-After is the scheduler's to honour
MAX_INLINE_WAIT = 10.0


def first_wait() -> float:
    """Seconds before the first retry in place: half the scheduler's backoff base
    (``SKYFORM_RETRY_BASE``, default 1 s, see apply/retry.py), so one setting shortens both;
    read per call, so that an in-process run's environment applies."""
    try:
        return max(float(os.environ.get("SKYFORM_RETRY_BASE") or 1.0), 0.0) / 2
    except ValueError:  # the scheduler reports a bad value; a read keeps the default
        return 0.5


def with_retries(read: Callable[[], T], attempts: int = 4) -> T:
    """``read()``, retried on TransientError up to ``attempts`` times in all (the service's
    Retry-After honoured up to MAX_INLINE_WAIT, else :func:`first_wait` doubling: 0.5 s by
    default); the last error is raised."""
    for attempt in range(attempts - 1):
        try:
            return read()
        except TransientError as exc:
            wait = exc.retry_after if exc.retry_after is not None else first_wait() * 2**attempt
            time.sleep(min(max(wait, 0.0), MAX_INLINE_WAIT))
    return read()
