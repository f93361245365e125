"""The live log of a mission's runs: progress reports, provider log lines and retries.

These come many to a call (an upload reports after every file) and matter only while the
run goes, so they are not written to the state's history (which keeps every transition
for good) and never move the serial. They go to the state's live log table instead
(:meth:`~skyform.state.base.StateStore.add_live`), so that ``skyform ui`` follows them on
any machine that reads the same state - a gitops runner's PostgreSQL seen from a laptop -
and, with SQLite, beside the mission as before.

Three bounds keep that cheap. Writes are batched: records wait in memory and leave with
the scheduler's next state transaction (:meth:`LiveLog.take`, called by the journal: no
transaction of their own, and a reader never sees a status before the progress that led to
it) or, while no state moves, in one transaction of their own at most every
:data:`FLUSH_SECONDS` (and at the end of the run). A thousand progress lines of one upload
thus cost a few transactions, not a thousand. Progress of one resource is kept at most every
:data:`PROGRESS_EVERY` (its last report always). The table keeps the newest
:data:`KEEP` records of a mission, each message cut at :data:`MESSAGE_CHARS`. Every record
is redacted before it is stored; a batch that cannot be written is dropped (the log is
for looking, the apply goes on).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from .. import redact
from ..events import EventKind
from ..state.base import LiveRecord, StateStore

log = logging.getLogger("skyform.apply")

#: records of one mission the state keeps (about 1 MB at most: messages are cut short)
KEEP = 2_000
MESSAGE_CHARS = 500
#: a batch leaves at most this often: the page is this far behind the run at worst
FLUSH_SECONDS = 0.5
#: progress of one resource is kept at most this often (its last report always is)
PROGRESS_EVERY = 0.2
#: the records the live log keeps: what the history does not
KINDS = frozenset({EventKind.PROGRESS, EventKind.LOG, EventKind.RETRY})
#: the fields a record carries besides its kind, resource and time
FIELDS = ("fraction", "message", "level", "attempt")


class LiveLog:
    """Collects redacted records of one mission's run and writes them to its state in batches."""

    def __init__(self, store: StateStore, mission: str, *, keep: int = KEEP) -> None:
        self.store, self.mission, self.keep = store, mission, keep
        self._lock = threading.Lock()
        self._pending: list[LiveRecord] = []
        self._flushed_at = time.monotonic()
        self._progress_at: dict[str, float] = {}
        #: batches written and dropped, for the tests that count transactions
        self.batches = 0
        self.dropped = 0

    def add(self, event: dict[str, Any]) -> None:
        """Keep one event for the next batch (its ``event`` is one of :data:`KINDS`; others
        are the history's and are not kept)."""
        kind = event.get("event")
        if kind not in KINDS:
            return
        address = redact.redact(str(event.get("address") or "")) or None
        now = time.time()
        if kind == EventKind.PROGRESS and not _final(event.get("fraction")):
            if now - self._progress_at.get(address or "", 0.0) < PROGRESS_EVERY:
                return
            self._progress_at[address or ""] = now
        record = LiveRecord(str(kind), address, now, _data(event))
        with self._lock:
            self._pending.append(record)
            if len(self._pending) > self.keep:  # the state keeps no more than this anyway
                del self._pending[: len(self._pending) - self.keep]

    def due_in(self) -> float | None:
        """Seconds until the pending records are due to leave (None: nothing pending), so the
        scheduler's loop wakes for them even while it waits on a long timer."""
        if not self._pending:
            return None
        return max(0.0, self._flushed_at + FLUSH_SECONDS - time.monotonic())

    def take(self) -> list[LiveRecord]:
        """The pending records, for a state transaction that is written anyway (the journal's)."""
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            self._flushed_at = time.monotonic()
        return batch

    def flush(self, *, force: bool = False) -> None:
        """Write the pending records in one transaction when they are due (or ``force``)."""
        due = self.due_in()
        if due is None or (due > 0 and not force):
            return
        batch = self.take()
        try:
            self.store.add_live(self.mission, batch, keep=self.keep)
            self.batches += 1
        except Exception as exc:  # a state that cannot take the batch: the apply goes on without it
            self.dropped += len(batch)
            log.debug("the live log of %s could not be written: %s", self.mission, exc)


def _data(event: dict[str, Any]) -> dict[str, Any]:
    """What a record says, as JSON the state takes: redacted, messages cut short."""
    data: dict[str, Any] = {}
    for key in FIELDS:
        value = event.get(key)
        if value is None:
            continue
        if key == "fraction":
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                data[key] = float(value)
        elif key == "attempt":
            if isinstance(value, int) and not isinstance(value, bool):
                data[key] = value
        else:
            data[key] = redact.redact(str(value))[:MESSAGE_CHARS]
    return data


def _final(fraction: object) -> bool:
    return isinstance(fraction, (int, float)) and fraction >= 1
