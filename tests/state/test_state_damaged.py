"""A damaged state is never an empty state: only a missing file (or schema) means "no state yet".

A 0-byte, truncated or table-less state file, and a PostgreSQL schema that is foreign,
lacks its version row or one of its tables, is refused with a StateError naming it and how
to restore it, and is left exactly as it was. Apply and destroy keep ``state.db.backup``
beside a SQLite state (the state as the last run left it), and the refusal says
how to restore it.
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest

from skyform.errors import StateError
from skyform.state import ResourceState, open_store
from skyform.state.plugin import skyform_state_backends
from skyform.state.sqlite import SqliteStateStore

BACKENDS = skyform_state_backends()


def _recorded(path: Path) -> bytes:
    """A state file holding one mission with one resource, closed (no -wal beside it)."""
    store = SqliteStateStore(path)
    store.write("m", [ResourceState(address="a", type="t.T", status="ready", idempotency_key="k", intent_at=1.0)])
    store.close()
    assert not Path(f"{path}-wal").exists()
    return path.read_bytes()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "damage, message",
    [
        ("zero-bytes", "is empty (0 bytes): it is damaged (a full disk, an interrupted copy), not a new state"),
        ("cut-at-a-page", "is truncated (4096 bytes; its header records"),
        ("cut-inside-a-page", "is truncated ("),
        ("trailing-bytes", "is damaged ({size} bytes, not a whole number of its 4096-byte pages)"),
        ("short-header", "is corrupt or not a SQLite database (it does not start with the SQLite header)"),
    ],
)
def test_damaged_file_is_refused_naming_it_and_left_untouched(tmp_path: Path, damage: str, message: str) -> None:
    path = tmp_path / ".skyform" / "state.db"
    path.parent.mkdir()
    data = _recorded(path)
    damaged = {
        "zero-bytes": b"",
        "cut-at-a-page": data[:4096],
        "cut-inside-a-page": data[:-1],
        "trailing-bytes": data + b"\0" * 10,
        "short-header": data[:50],
    }[damage]
    path.write_bytes(damaged)
    with pytest.raises(StateError) as err:
        open_store(None, tmp_path, BACKENDS)
    assert f"state file {path} {message.format(size=len(damaged))}" in str(err.value)
    assert "skyform did not change it" in str(err.value)
    assert "no backup state.db.backup beside it" in (err.value.hint or "")
    assert path.read_bytes() == damaged
    assert not Path(f"{path}-wal").exists()


def test_empty_sqlite_database_is_not_taken_for_new_state(tmp_path: Path) -> None:
    """A valid SQLite file without tables is not "no state yet": refused, not filled with tables."""
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 7")
    conn.close()
    before = _digest(path)
    with pytest.raises(StateError, match="is an empty SQLite database, not a skyform state"):
        SqliteStateStore(path)
    assert _digest(path) == before


def test_missing_file_is_new_state_made_complete_before_it_appears(tmp_path: Path) -> None:
    """Only a missing file is a new state; it appears at the first write (a store that only
    reads leaves no file), and then with its schema (never as 0 bytes)."""
    path = tmp_path / "state.db"
    store = SqliteStateStore(path)
    assert store.schema_version() >= 1 and store.missions() == [] and not path.exists()
    store.write("m", [ResourceState(address="a", type="t.T", status="ready", idempotency_key="k", intent_at=1.0)])
    assert path.stat().st_size > 0 and list(store.resources("m")) == ["a"]
    store.close()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("state.db")) == []


def test_backup_is_a_consistent_copy_that_restores(tmp_path: Path) -> None:
    """backup() copies the open state (WAL included) to state.db.backup; the refusal of a
    damaged file then names it, and following the hint brings the records back."""
    path = tmp_path / "state.db"
    store = SqliteStateStore(path)
    store.write("m", [ResourceState(address="a", type="t.T", status="ready", idempotency_key="k", intent_at=1.0)])
    backup = store.backup()
    assert backup == tmp_path / "state.db.backup"
    store.close()
    path.write_bytes(b"")
    with pytest.raises(StateError) as err:
        SqliteStateStore(path)
    assert f"`cp {backup} {path}`" in (err.value.hint or "")
    assert "restore the copy skyform made when its last apply finished" in (err.value.hint or "")
    path.write_bytes(backup.read_bytes())
    restored = SqliteStateStore(path)
    assert list(restored.resources("m")) == ["a"]
    restored.close()


# -- PostgreSQL: the same rule for a schema ---------------------------------------------------
@pytest.fixture
def pg_schema(request: pytest.FixtureRequest) -> tuple[str, str, str]:
    import os

    base = os.environ.get("SKYFORM_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("SKYFORM_TEST_POSTGRES_URL is not set")
    schema = f"skyform_test_{uuid.uuid4().hex[:12]}"

    def drop() -> None:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    request.addfinalizer(drop)
    sep = "&" if "?" in base else "?"
    return base, schema, f"{base}{sep}schema={schema}"


def _tables(base: str, schema: str) -> list[str]:
    with psycopg.connect(base, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY table_name", (schema,)
        ).fetchall()
    return [r[0] for r in rows]


@pytest.mark.postgres
@pytest.mark.parametrize(
    "damage, message",
    [
        ("foreign", "holds tables invoices but is not skyform state"),
        ("no-version", "is damaged: it records no schema version"),
        ("missing-table", "is damaged: it lacks the tables resources"),
    ],
)
def test_postgres_damaged_schema_is_refused_unchanged(tmp_path: Path, pg_schema, damage: str, message: str) -> None:
    base, schema, url = pg_schema
    with psycopg.connect(base, autocommit=True) as conn:
        if damage == "foreign":
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.execute(f'CREATE TABLE "{schema}".invoices (id INTEGER)')
        else:
            open_store(url, tmp_path, BACKENDS).close()
            if damage == "no-version":
                conn.execute(f'DELETE FROM "{schema}".skyform_schema')
            else:
                conn.execute(f'DROP TABLE "{schema}".resources')
    before = _tables(base, schema)
    with pytest.raises(StateError) as err:
        open_store(url, tmp_path, BACKENDS)
    assert f"(schema {schema}) {message}" in str(err.value)
    assert "skyform did not change it" in str(err.value)
    assert _tables(base, schema) == before


@pytest.mark.postgres
def test_postgres_empty_schema_is_new_state(tmp_path: Path, pg_schema) -> None:
    """A schema a DBA made for skyform, still empty, is "no state yet": skyform creates its tables."""
    base, schema, url = pg_schema
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    store = open_store(url, tmp_path, BACKENDS)
    assert store.missions() == []
    store.close()
    assert "missions" in _tables(base, schema)


def test_a_failed_creation_leaves_neither_a_state_nor_a_temporary_file(tmp_path: Path) -> None:
    """A new state whose schema cannot be built (here: a failing build step) leaves nothing
    behind - no half-made state.db that a later run would have to refuse."""
    from skyform.state import _sqlite_file

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half (x INTEGER)")
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError):
        _sqlite_file.create_atomically(tmp_path / "state.db", broken)
    assert list(tmp_path.iterdir()) == []
