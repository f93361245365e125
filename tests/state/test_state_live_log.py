"""The live log table of the state (schema v5), on every backend: appended in batches, bounded
per mission, read after a number by another store (another machine), never part of the serial,
and migrated onto a state written before it existed."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from skyform.state import LiveRecord, StateStore


def line(i: int, address: str | None = "photos") -> LiveRecord:
    return LiveRecord("log", address, 1_700_000_000.0 + i, {"level": "info", "message": f"line {i}"})


def test_batches_are_read_back_in_order_after_a_number_by_another_store(
    store_url: str, open_url: Callable[[str], StateStore]
) -> None:
    """What the apply writes, a reader elsewhere (a second store on the same URL) reads after n."""
    writer, reader = open_url(store_url), open_url(store_url)
    assert reader.live_last("m") == 0 and reader.live_after("m", 0) == []
    writer.add_live("m", [line(0), line(1)], keep=100)
    writer.add_live("m", [line(2, None)], keep=100)
    got = reader.live_after("m", 0)
    assert [r.data["message"] for r in got] == ["line 0", "line 1", "line 2"]
    assert got[0].kind == "log" and got[0].address == "photos" and got[2].address is None
    assert got[1].at == 1_700_000_001.0 and got[0].n < got[1].n < got[2].n
    assert [r.data["message"] for r in reader.live_after("m", got[0].n)] == ["line 1", "line 2"]
    assert [r.n for r in reader.live_after("m", 0, limit=2)] == [got[0].n, got[1].n]
    assert reader.live_last("m") == got[2].n


def test_each_mission_keeps_only_its_newest_records_and_numbers_only_grow(store: StateStore) -> None:
    """The bound: an hours-long run leaves the mission's newest ``keep`` records, whatever it wrote;
    another mission's records are not touched, and a new record's number is above every old one."""
    store.add_live("other", [line(-1)], keep=5)
    numbers: list[int] = []
    for batch in range(40):
        store.add_live("m", [line(batch * 10 + i) for i in range(10)], keep=25)
        numbers.append(store.live_last("m"))
    kept = store.live_after("m", 0, limit=1000)
    assert [r.data["message"] for r in kept] == [f"line {i}" for i in range(375, 400)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 40
    assert [r.data["message"] for r in store.live_after("other", 0)] == ["line -1"]
    store.delete_mission("m")  # a deleted mission's live log goes with it; numbers still only grow
    assert store.live_after("m", 0) == []
    store.add_live("m", [line(999)], keep=25)
    assert store.live_last("m") > numbers[-1]


def test_live_records_are_no_part_of_the_serial(store: StateStore) -> None:
    """A progress line changes no mission: it never makes a saved plan stale."""
    assert store.write("m") == 1
    store.add_live("m", [line(0)], keep=10)
    state = store.mission("m")
    assert state is not None and state.serial == 1
    assert store.write("m") == 2


def test_a_v4_sqlite_state_gains_the_live_log_and_keeps_its_data(tmp_path: Path, open_url) -> None:
    """A state written before the live log existed (schema v4) is migrated, after a backup."""
    from skyform.state._migrations import SQLITE

    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE skyform_schema (version INTEGER NOT NULL)")
    for statements in SQLITE[:4]:
        for sql in statements:
            conn.execute(sql.format(t=""))
    conn.execute("INSERT INTO skyform_schema VALUES (4)")
    conn.execute("INSERT INTO missions VALUES ('m', 3, 'lin', '', '{}', '{}', 1.0)")
    conn.commit()
    conn.close()
    store = open_url(f"sqlite:///{path}")
    assert store.schema_version() == 5  # type: ignore[attr-defined]
    state = store.mission("m")
    assert state is not None and state.serial == 3 and state.lineage == "lin"
    store.add_live("m", [line(0)], keep=10)
    assert [r.data["message"] for r in store.live_after("m", 0)] == ["line 0"]
    assert (tmp_path / "state.db.backup").is_file()


@pytest.mark.postgres
def test_a_v4_postgres_state_gains_the_live_log_and_keeps_its_data(postgres_url: str, open_url) -> None:
    """The same migration on PostgreSQL: the v4 tables stay, the live log is added once."""
    first = open_url(postgres_url)
    first.write("m")
    with first._writing() as cur:  # type: ignore[attr-defined]  # back to v4, as an older skyform left it
        cur.execute(first._sql("DROP TABLE {t}live_log"))  # type: ignore[attr-defined]
        cur.execute(first._sql("UPDATE {t}skyform_schema SET version = 4"))  # type: ignore[attr-defined]
    again = open_url(postgres_url)
    assert again.schema_version() == 5  # type: ignore[attr-defined]
    state = again.mission("m")
    assert state is not None and state.serial == 1
    again.add_live("m", [line(0)], keep=10)
    assert [r.data["message"] for r in open_url(postgres_url).live_after("m", 0)] == ["line 0"]
