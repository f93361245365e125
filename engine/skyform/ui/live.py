"""Server-sent events from a mission's recorded history, resumable by id.

The apply (on this machine, or a gitops runner writing to PostgreSQL) records every
transition in the state's append-only history before the call that depends on it leaves;
the stream follows that history, so the page sees exactly what ``skyform history`` will
show. Each message's ``id`` is the event's sequence number: a browser that reconnects
(the server restarted, the network dropped) sends ``Last-Event-ID`` and gets every event
after it, none lost and none twice.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

from .. import redact
from .site import Entry, Site
from .views import event_json

#: how often the history is read while nothing new arrived, and how often a comment keeps
#: the connection (and any proxy between) open - and finds out that the browser left, as
#: only a failed write tells a WSGI server so
POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 5.0
BATCH = 500


def message(event_id: int, data: object) -> str:
    """One SSE message (the event's kind is in its data); the data is redacted JSON on one line."""
    return f"id: {event_id}\ndata: {redact.redact(json.dumps(data, default=str))}\n\n"


def stream(site: Site, entry: Entry, after: int, stop: threading.Event) -> Iterator[str]:
    """Every event after ``after``, then each new one as it is recorded, until ``stop``."""
    yield "retry: 1000\n\n"  # reconnect after a second when the connection drops
    last, quiet_since = after, time.monotonic()
    with site.store(entry) as store:
        while not stop.is_set():
            events = store.events_after(entry.name, last, limit=BATCH)
            for e in events:
                last = e.seq
                yield message(e.seq, event_json(e))
            if events:
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since >= HEARTBEAT_SECONDS:
                quiet_since = time.monotonic()
                yield ": still here\n\n"
            stop.wait(POLL_SECONDS)


def resume_point(last_event_id: str | None, after: str | None) -> int:
    """Where a stream starts: the browser's ``Last-Event-ID`` wins over the page's ``after``."""
    for value in (last_event_id, after):
        if value and value.strip().isdigit():
            return int(value.strip())
    return 0
