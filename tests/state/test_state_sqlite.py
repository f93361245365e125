"""SQLite-only behaviour: pragmas, the file's location, and bad files refused without harm."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from skyform.errors import StateError
from skyform.state import Event, ResourceState, open_store
from skyform.state.plugin import skyform_state_backends
from skyform.state.sqlite import SqliteStateStore

BACKENDS = skyform_state_backends()


def test_default_store_is_state_db_under_dot_skyform(tmp_path: Path) -> None:
    store = open_store(None, tmp_path, BACKENDS)
    assert store.path == tmp_path / ".skyform" / "state.db"  # type: ignore[attr-defined]
    store.write("m")
    assert store.path.is_file()  # type: ignore[attr-defined]
    store.close()


@pytest.mark.parametrize(
    "url, expected",
    [
        ("sqlite:///team.db", ".skyform/team.db"),
        ("sqlite:///../shared/s.db", ".skyform/../shared/s.db"),
        ("sqlite:", ".skyform/state.db"),
    ],
)
def test_relative_paths_are_under_dot_skyform(tmp_path: Path, url: str, expected: str) -> None:
    store = open_store(url, tmp_path, BACKENDS)
    assert store.path == tmp_path / expected  # type: ignore[attr-defined]
    store.close()


def test_absolute_path_with_four_slashes(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "x.db"
    store = open_store(f"sqlite:///{target}", tmp_path / "mission", BACKENDS)
    assert store.path == target and store.url == f"sqlite:///{target}"  # type: ignore[attr-defined]
    store.close()


def test_wal_and_synchronous_normal(tmp_path: Path) -> None:
    """Never SQLite's defaults: WAL journal and synchronous=NORMAL (DESIGN.md, Performance)."""
    store = SqliteStateStore(tmp_path / "s.db")
    store.write("m", [])  # the file is made by the first write
    conn = store._connection()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    store.close()


def test_unknown_scheme_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(StateError) as err:
        open_store("mysql://db/x", tmp_path, BACKENDS)
    assert str(err.value) == (
        "state URL 'mysql://db/x' has scheme 'mysql'; known schemes: postgres://, postgresql://, sqlite://"
    )
    with pytest.raises(StateError, match="has no scheme"):
        open_store("state.db", tmp_path, BACKENDS)


@pytest.mark.parametrize("content", [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_corrupt_file_is_refused_and_left_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / ".skyform" / "state.db"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(StateError) as err:
        open_store(None, tmp_path, BACKENDS)
    assert f"state file {path} is corrupt or not a SQLite database" in str(err.value)
    assert "restore the file from your own backups" in (err.value.hint or "")
    assert path.read_bytes() == content
    assert not (tmp_path / ".skyform" / "state.db-wal").exists()


def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(StateError, match=r"is a SQLite database but not skyform state \(it holds tables invoices\)"):
        SqliteStateStore(path)
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["invoices"]


def test_state_path_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "d.db").mkdir()
    with pytest.raises(StateError, match="is a directory"):
        SqliteStateStore(tmp_path / "d.db")


def test_disk_full_during_write_keeps_previous_state(tmp_path: Path) -> None:
    """SQLITE_FULL in the middle of a write: a StateError, and the last committed state intact."""
    store = SqliteStateStore(tmp_path / "s.db")
    store.write("m", [ResourceState(address="a", type="t.T", status="ready", idempotency_key="k", intent_at=1.0)])
    conn = store._connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages}")  # the "disk" is now full
    big = [
        ResourceState(
            address=f"r{i}",
            type="t.T",
            status="ready",
            idempotency_key="k",
            intent_at=1.0,
            outputs={"blob": "x" * 5000},
        )
        for i in range(20)
    ]
    with pytest.raises(StateError) as err:
        store.write("m", big, [Event(kind="apply_finished")])
    assert f"could not write state in {tmp_path / 's.db'}: database or disk is full" in str(err.value)
    assert "previous state is intact" in str(err.value)
    assert store.mission("m").serial == 1 and list(store.resources("m")) == ["a"]  # type: ignore[union-attr]
    assert store.events("m") == []
    store.close()


def test_unwritable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = SqliteStateStore(blocker / "sub" / "s.db")  # reading needs no file: no state yet
    assert store.missions() == []
    with pytest.raises(StateError, match="cannot create the state directory"):
        store.write("m", [])


def test_postgres_unreachable_is_a_state_error(tmp_path: Path) -> None:
    """A PostgreSQL URL nobody answers: a StateError naming the URL with the password masked."""
    with pytest.raises(StateError) as err:
        open_store("postgresql://u:hunter22@127.0.0.1:1/db?connect_timeout=2", tmp_path, BACKENDS)
    assert "cannot connect to the PostgreSQL state at postgresql://u:***@127.0.0.1:1/db" in str(err.value)
    assert "hunter22" not in str(err.value)


def test_postgres_bad_schema_name(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="not a valid PostgreSQL identifier"):
        open_store("postgresql://127.0.0.1/db?schema=a;drop", tmp_path, BACKENDS)


def test_the_header_check_never_closes_a_descriptor_of_a_file_this_process_has_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing any descriptor of a file drops this process's POSIX locks on it, SQLite's
    too: a reader (skyform ui's event stream) then read pages a writer's checkpoint was
    overwriting ("database disk image is malformed"). So the raw header check runs only
    while no store of the process has the file open."""
    from skyform.state import _sqlite_file

    path = tmp_path / "state.db"
    first = SqliteStateStore(path)
    first.write("m", [ResourceState("a", "local.Files", "ready", "k", 1.0)], [])
    first.close()
    checked: list[Path] = []
    real = _sqlite_file.check_existing
    monkeypatch.setattr(_sqlite_file, "check_existing", lambda p: (checked.append(p), real(p)))
    holder = SqliteStateStore(path)  # checked: nothing of this process has the file open
    assert holder.resources("m") and checked == [path]
    second = SqliteStateStore(path)  # the holder's connection is open: no descriptor opened
    assert second.resources("m") and checked == [path]
    second.close()
    holder.close()
    SqliteStateStore(path).close()  # all closed: checked again
    assert checked == [path, path]
