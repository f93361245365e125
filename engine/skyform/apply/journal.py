"""The journal of an apply: state rows and events, written together, and told to the world.

The scheduler records every transition here. Rows and events of one scheduler tick are
written in ONE state transaction (:meth:`Journal.flush`), which the scheduler calls before
any provider call that depends on them leaves - so a create's intent is always durable
before its request. The live log's pending records (progress, provider log lines) go in the
same transaction, ahead of the tick's events. Every transition is also emitted (text or JSON output) and handed to
the observer hook; everything that leaves is redacted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .. import redact
from ..events import EventKind
from ..state.base import Event, Removal, ResourceState, StateStore
from .livelog import LiveLog

Emit = Callable[[dict[str, Any]], None]
Observer = Callable[[str, str, "str | None", str, dict[str, Any]], None]


class Journal:
    """Batches state writes and events; emits output events and observer calls."""

    def __init__(
        self,
        store: StateStore,
        mission: str,
        emit: Emit,
        observer: Observer | None = None,
        live: LiveLog | None = None,
    ) -> None:
        self.store, self.mission, self.emit, self.observer = store, mission, emit, observer
        self.live = live
        self.rows: list[ResourceState | Removal] = []
        self.events: list[Event] = []

    @property
    def pending(self) -> bool:
        """Whether the next :meth:`flush` has anything to write."""
        return bool(self.rows or self.events)

    def put(self, row: ResourceState | Removal) -> None:
        """A resource row (or its removal) to write with this tick's transaction."""
        self.rows.append(row)

    def transition(self, address: str, type_name: str, before: str | None, after: str, detail: dict[str, Any]) -> None:
        """A status change: recorded in the history, shown, and told to observers."""
        redacted = redact.redact_data(detail)
        assert isinstance(redacted, dict)  # redact_data keeps the shape of what it is given
        detail = redacted
        self.events.append(Event(EventKind.TRANSITION, address, before, after, detail, time.time()))
        self.emit(
            {
                "event": EventKind.TRANSITION,
                "address": address,
                "type": type_name,
                "before": before,
                "after": after,
                **detail,
            }
        )
        if self.observer is not None:
            try:
                self.observer(address, type_name, before, after, detail)
            except Exception as exc:  # a notifier that fails must not stop the apply
                self.emit(
                    {
                        "event": EventKind.WARNING,
                        "address": address,
                        "message": redact.redact(f"an observer plugin failed: {type(exc).__name__}: {exc}"),
                    }
                )

    def phase(self, address: str, phase: str) -> None:
        """A running call said what it now spends its time on: recorded (the timeline reads
        it) and shown. Phases are few per call, unlike progress reports."""
        phase = redact.redact(str(phase))[:40]
        self.events.append(Event(EventKind.PHASE, address, data={"phase": phase}, at=time.time()))
        self.emit({"event": EventKind.PHASE, "address": address, "phase": phase})

    def warning(self, address: str, message: str) -> None:
        message = redact.redact(message)
        self.events.append(Event(EventKind.WARNING, address, data={"message": message}, at=time.time()))
        self.emit({"event": EventKind.WARNING, "address": address, "message": message})

    def flush(self) -> None:
        """Write pending rows and events in one transaction (the last row per address wins).

        A removal followed by a new record of the same address (a replace) is written as
        both, the removal first: the store moves what the old record cost to the mission's
        ledger as it removes it (:mod:`skyform.state.spend`).
        """
        if not self.rows and not self.events:
            return
        rows, events = self.rows, self.events
        self.rows, self.events = [], []
        latest: dict[str, ResourceState | Removal] = {}
        removed_first: dict[str, Removal] = {}
        for row in rows:
            if isinstance(row, Removal):
                removed_first[row.address] = row
            latest[row.address] = row
        first = [r for a, r in removed_first.items() if not isinstance(latest[a], Removal)]
        live = self.live.take() if self.live is not None else []
        if live and self.live is not None:
            self.store.write_with_live(self.mission, [*first, *latest.values()], events, live, keep=self.live.keep)
        else:
            self.store.write(self.mission, [*first, *latest.values()], events)
