"""The apply's live log in the state: a chatty call costs a few transactions, not one per line;
the lines keep their resource and never their secrets; a tick's records ride with its state.

Runs the CLI in-process against the fake simulator; transactions are counted at the store
(every ``_writing`` block is one), live-only batches at ``add_live``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from skyform.apply import livelog
from skyform.state._sql import SqlStateStore
from skyform.state.sqlite import SqliteStateStore

CHATTY = """
    resources:
      talk: {type: fake.Thing, spec: {name: talk, chatter: %d, chatter_every: 0.005}}
      after: {type: fake.Thing, spec: {name: after}, depends_on: [talk]}
"""


@pytest.fixture
def transactions(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts the state's write transactions and, of them, the live log's own batches."""
    counts = {"all": 0, "live alone": 0, "live riding": 0}
    writing = SqliteStateStore._writing
    add_live, write_with_live = SqlStateStore.add_live, SqlStateStore.write_with_live

    @contextmanager
    def counted(self: SqliteStateStore) -> Iterator[Any]:
        counts["all"] += 1
        with writing(self) as cur:
            yield cur

    def alone(self: SqlStateStore, *args: Any, **kw: Any) -> None:
        counts["live alone"] += 1
        add_live(self, *args, **kw)

    def riding(self: SqlStateStore, *args: Any, **kw: Any) -> int:
        counts["live riding"] += 1
        return write_with_live(self, *args, **kw)

    monkeypatch.setattr(SqliteStateStore, "_writing", counted)
    monkeypatch.setattr(SqlStateStore, "add_live", alone)
    monkeypatch.setattr(SqlStateStore, "write_with_live", riding)
    return counts


def apply(ws: Any, lines: int) -> tuple[dict[str, Any], float]:
    ws.write(CHATTY % lines)
    started = time.monotonic()
    ran = ws.run("apply", "--sandbox", "--auto-approve", "--json", ws.path)
    assert ran.code == 0, str(ran)
    return ran, time.monotonic() - started


def serial_of(ws: Any) -> int:
    store = ws.store()
    try:
        return int(store.mission("mission").serial)
    finally:
        store.close()


def test_a_chatty_call_costs_a_few_transactions_and_its_lines_keep_their_resource_not_its_secret(
    ws: Any, transactions: dict[str, int]
) -> None:
    """400 progress reports and 400 provider log lines in one create (~2 s): the state gets
    them in batches - at most one of its own per FLUSH_SECONDS, the rest riding with the
    tick's state transactions - so the apply's transactions grow by those few batches, and
    the serial (state moves) not at all. Every log line is kept, tied to its resource,
    the provider's token masked."""
    from fakeprov.simulator import TOKEN

    apply(ws, 0)
    quiet = dict(transactions)
    serial_quiet = serial_of(ws)
    assert ws.run("destroy", "--sandbox", "--auto-approve", ws.path).code == 0
    transactions.update(dict.fromkeys(transactions, 0))
    serial_before = serial_of(ws)

    _, took = apply(ws, 400)
    store = ws.store()
    try:
        serial = store.mission("mission").serial - serial_before
        kept = store.live_after("mission", 0, limit=5_000)
        with store._reading() as cur:
            cur.execute("SELECT kind, address, data FROM live_log")
            raw = repr(cur.fetchall())
    finally:
        store.close()
    assert serial == serial_quiet, (serial, serial_quiet)  # live lines never move the serial
    alone = transactions["live alone"]
    assert 1 <= alone <= took / livelog.FLUSH_SECONDS + 2, (alone, took)
    assert quiet["all"] > 0 and transactions["all"] <= quiet["all"] + alone, (transactions, quiet)
    logs = [r for r in kept if r.kind == "log"]
    assert [r.data["message"].split(" with ")[0] for r in logs] == [f"fake: step {i} of 400" for i in range(1, 401)]
    assert {r.address for r in logs} == {"talk"} and all(r.data["level"] == "info" for r in logs)
    progress = [r for r in kept if r.kind == "progress" and r.address == "talk"]
    assert progress[-1].data == {"fraction": 1.0, "message": "step 400 of 400"}
    assert len(progress) <= took / livelog.PROGRESS_EVERY + 2, len(progress)  # throttled per resource
    assert TOKEN not in raw
    assert "fake: step 7 of 400 with token ***" in raw


def test_a_ticks_live_records_ride_with_its_state_so_no_status_comes_before_its_progress(
    ws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the create's ``ready`` becomes visible, its last progress line already is: a page
    never shows a resource ready and then the progress that led there. (Sent by time alone,
    the last line would come up to FLUSH_SECONDS later than the status.)"""
    seen_with_ready: list[str] = []
    original = SqlStateStore._write

    def watched(self: SqlStateStore, mission: str, resources: Any, events: Any, *args: Any, **kw: Any) -> int:
        serial = original(self, mission, resources, events, *args, **kw)
        if any(e.address == "talk" and e.after == "ready" for e in events):
            seen_with_ready.extend(str(r.data.get("message")) for r in self.live_after(mission, 0, limit=5_000))
        return serial

    monkeypatch.setattr(SqlStateStore, "_write", watched)
    apply(ws, 50)
    assert "step 50 of 50" in seen_with_ready, seen_with_ready
