"""Server-sent events from a mission's recorded history and its live log, resumable by id.

The apply (on this machine, or a gitops runner writing to PostgreSQL) records every
transition in the state's append-only history before the call that depends on it leaves;
the stream follows that history, so the page sees exactly what ``skyform history`` will
show. Each message's ``id`` is the event's sequence number: a browser that reconnects
(the server restarted, the network dropped) sends ``Last-Event-ID`` and gets every event
after it, none lost and none twice. Beside the history, the stream follows the mission's
live log in the same state (:mod:`skyform.apply.livelog`: upload and download progress,
the provider's log lines, retries; bounded, so only the newest are there to be read):
a page on another machine sees them as a page beside the apply does.
"""

from __future__ import annotations

import heapq
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from .. import redact
from ..state.base import Event, LiveRecord
from .site import Entry, Site
from .views import event_json, safe

#: how often the history is read while nothing new arrived, and how often a comment keeps
#: the connection (and any proxy between) open - and finds out that the browser left, as
#: only a failed write tells a WSGI server so
POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 5.0
BATCH = 500


def message(event_id: str | int, data: object) -> str:
    """One SSE message (the event's kind is in its data); the data is redacted JSON on one line."""
    return f"id: {event_id}\ndata: {redact.redact(json.dumps(data, default=str))}\n\n"


def stream(site: Site, entry: Entry, after: int, stop: threading.Event, live_after: int | None = None) -> Iterator[str]:
    """Every event after ``after``, then each new one as it is recorded, until ``stop``;
    merged in time with the live log's records (progress, provider log lines, retries)
    kept after ``live_after`` (None: from now on). A message's id is ``SEQ`` or, once a
    live record was sent, ``SEQ.N``: both positions, so a reconnect resumes both."""
    yield "retry: 1000\n\n"  # reconnect after a second when the connection drops
    last, quiet_since = after, time.monotonic()
    with site.store(entry) as store:
        position = live_after if live_after is not None else store.live_last(entry.name)
        shown = position or 0  # the .N of the ids: 0 until a live record was sent
        while not stop.is_set():
            events = store.events_after(entry.name, last, limit=BATCH)
            records = store.live_after(entry.name, position, limit=BATCH)
            # in time, each side in its own order (a clock that stepped back reorders neither)
            sides: list[list[Event | LiveRecord]] = [list(events), list(records)]
            merged = list(heapq.merge(*sides, key=_at))
            for item in merged:
                if isinstance(item, Event):
                    last, data = item.seq, event_json(item)
                else:
                    position = shown = max(position, item.n)
                    data = live_record(item)
                yield message(f"{last}.{shown}" if shown else last, data)
            if merged:
                quiet_since = time.monotonic()
                if len(events) == BATCH or len(records) == BATCH:
                    continue
            if time.monotonic() - quiet_since >= HEARTBEAT_SECONDS:
                quiet_since = time.monotonic()
                yield ": still here\n\n"
            stop.wait(POLL_SECONDS)


def _at(item: Event | LiveRecord) -> float:
    return item.at


def live_record(record: LiveRecord) -> dict[str, Any]:
    """A live record as the page takes it: its kind, resource and what it says (redacted)."""
    kept: dict[str, Any] = {"n": record.n, "kind": record.kind, "at": record.at}
    if record.address is not None:
        kept["address"] = record.address
    kept.update({k: v for k, v in record.data.items() if k in ("fraction", "message", "level", "attempt")})
    return dict(safe(kept))


def resume_point(last_event_id: str | None, after: str | None) -> int:
    """Where a stream starts: the browser's ``Last-Event-ID`` wins over the page's ``after``."""
    for value in (last_event_id, after):
        head = (value or "").strip().partition(".")[0]
        if head.isdigit():
            return int(head)
    return 0


def live_resume_point(last_event_id: str | None, live: str | None) -> int | None:
    """Where the live log is followed from: the ``.N`` of ``Last-Event-ID``, else ``live``,
    else None (from now on: progress from before the page was opened is history)."""
    tail = (last_event_id or "").strip().partition(".")[2]
    for value in (tail, (live or "").strip()):
        if value.isdigit():
            return int(value)
    return None
