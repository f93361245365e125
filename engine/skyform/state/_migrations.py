"""The versioned state schema: one list of migrations per SQL dialect.

Migration ``n`` takes a store from schema ``n - 1`` to ``n``; version 0 is an empty
database. Both dialects hold the same tables with the same meaning, so that a mission's
state means the same thing in SQLite and in PostgreSQL. Add a migration by appending to
both lists and raising ``base.SCHEMA_VERSION``; never edit a released one.

``{t}`` in a statement stands for the table-name prefix (``"schema".`` in PostgreSQL).
"""

from __future__ import annotations

from .base import SCHEMA_VERSION

SQLITE: list[list[str]] = [
    # v1: missions, resources, the append-only event history and the lock.
    [
        """CREATE TABLE {t}missions (
            name TEXT PRIMARY KEY,
            serial INTEGER NOT NULL,
            lineage TEXT NOT NULL,
            spec_digest TEXT NOT NULL DEFAULT '',
            outputs TEXT NOT NULL DEFAULT '{{}}',
            attributes TEXT NOT NULL DEFAULT '{{}}',
            updated_at REAL NOT NULL
        )""",
        """CREATE TABLE {t}resources (
            mission TEXT NOT NULL REFERENCES missions(name) ON DELETE CASCADE,
            address TEXT NOT NULL,
            type TEXT NOT NULL,
            status TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            intent_at REAL NOT NULL,
            remote_id TEXT,
            spec TEXT NOT NULL,
            outputs TEXT NOT NULL,
            observed TEXT NOT NULL,
            private TEXT NOT NULL,
            depends_on TEXT NOT NULL,
            error TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (mission, address)
        )""",
        """CREATE TABLE {t}events (
            seq INTEGER PRIMARY KEY,  -- rowid: events are never deleted, so it only grows
            mission TEXT NOT NULL,
            kind TEXT NOT NULL,
            address TEXT,
            before TEXT,
            after TEXT,
            data TEXT NOT NULL,
            at REAL NOT NULL
        )""",
        "CREATE INDEX {t}events_by_mission ON events (mission, seq)",
        """CREATE TABLE {t}locks (
            mission TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            since REAL NOT NULL,
            operation TEXT NOT NULL DEFAULT ''
        )""",
    ],
    # v2: leases of operations run by workers (fencing tokens), and the workers seen.
    [
        """CREATE TABLE {t}leases (
            call_id TEXT PRIMARY KEY,
            mission TEXT NOT NULL,
            address TEXT NOT NULL,
            step TEXT NOT NULL,
            queue TEXT NOT NULL,
            token INTEGER NOT NULL,
            worker TEXT NOT NULL,
            deliveries INTEGER NOT NULL,
            expires_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            finished_at REAL
        )""",
        "CREATE INDEX {t}leases_by_mission ON leases (mission, finished_at)",
        """CREATE TABLE {t}workers (
            name TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            queues TEXT NOT NULL,
            seen_at REAL NOT NULL
        )""",
    ],
    # v3: approvals of saved plans (skyform approve), each usable once; not part of the
    # serial: recording or using an approval changes no mission
    [
        """CREATE TABLE {t}approvals (
            id TEXT PRIMARY KEY,
            mission TEXT NOT NULL,
            plan_digest TEXT NOT NULL,
            lineage TEXT NOT NULL,
            serial INTEGER NOT NULL,
            approver TEXT NOT NULL,
            cost TEXT NOT NULL,
            max_cost REAL,
            irreversible TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            used_at REAL
        )""",
        "CREATE INDEX {t}approvals_by_mission ON approvals (mission, plan_digest)",
    ],
    # v4: revoking an approval (skyform approvals revoke): who and when; a revoked one is refused
    [
        "ALTER TABLE {t}approvals ADD COLUMN revoked_at REAL",
        "ALTER TABLE {t}approvals ADD COLUMN revoked_by TEXT",
    ],
    # v5: the live log of runs (progress, provider log lines, retries), bounded per mission,
    # so that a page on another machine follows them (skyform ui --state URL); not part of
    # the serial. AUTOINCREMENT: a number is never used twice, so a reader that resumes
    # after n never skips a record written after a deletion of the newest ones
    [
        """CREATE TABLE {t}live_log (
            n INTEGER PRIMARY KEY AUTOINCREMENT,
            mission TEXT NOT NULL,
            kind TEXT NOT NULL,
            address TEXT,
            at REAL NOT NULL,
            data TEXT NOT NULL
        )""",
        "CREATE INDEX {t}live_log_by_mission ON live_log (mission, n)",
    ],
]

POSTGRES: list[list[str]] = [
    [
        """CREATE TABLE {t}missions (
            name TEXT PRIMARY KEY,
            serial BIGINT NOT NULL,
            lineage TEXT NOT NULL,
            spec_digest TEXT NOT NULL DEFAULT '',
            outputs JSONB NOT NULL DEFAULT '{{}}',
            attributes JSONB NOT NULL DEFAULT '{{}}',
            updated_at DOUBLE PRECISION NOT NULL
        )""",
        """CREATE TABLE {t}resources (
            mission TEXT NOT NULL REFERENCES {t}missions(name) ON DELETE CASCADE,
            address TEXT NOT NULL,
            type TEXT NOT NULL,
            status TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            intent_at DOUBLE PRECISION NOT NULL,
            remote_id TEXT,
            spec JSONB NOT NULL,
            outputs JSONB NOT NULL,
            observed JSONB NOT NULL,
            private JSONB NOT NULL,
            depends_on JSONB NOT NULL,
            error TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (mission, address)
        )""",
        """CREATE TABLE {t}events (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            mission TEXT NOT NULL,
            kind TEXT NOT NULL,
            address TEXT,
            before TEXT,
            after TEXT,
            data JSONB NOT NULL,
            at DOUBLE PRECISION NOT NULL
        )""",
        "CREATE INDEX events_by_mission ON {t}events (mission, seq)",
        """CREATE TABLE {t}locks (
            mission TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            since DOUBLE PRECISION NOT NULL,
            operation TEXT NOT NULL DEFAULT ''
        )""",
    ],
    [
        """CREATE TABLE {t}leases (
            call_id TEXT PRIMARY KEY,
            mission TEXT NOT NULL,
            address TEXT NOT NULL,
            step TEXT NOT NULL,
            queue TEXT NOT NULL,
            token BIGINT NOT NULL,
            worker TEXT NOT NULL,
            deliveries INTEGER NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            finished_at DOUBLE PRECISION
        )""",
        "CREATE INDEX leases_by_mission ON {t}leases (mission, finished_at)",
        """CREATE TABLE {t}workers (
            name TEXT PRIMARY KEY,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            queues JSONB NOT NULL,
            seen_at DOUBLE PRECISION NOT NULL
        )""",
    ],
    [
        """CREATE TABLE {t}approvals (
            id TEXT PRIMARY KEY,
            mission TEXT NOT NULL,
            plan_digest TEXT NOT NULL,
            lineage TEXT NOT NULL,
            serial BIGINT NOT NULL,
            approver TEXT NOT NULL,
            cost JSONB NOT NULL,
            max_cost DOUBLE PRECISION,
            irreversible JSONB NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            expires_at DOUBLE PRECISION NOT NULL,
            used_at DOUBLE PRECISION
        )""",
        "CREATE INDEX approvals_by_mission ON {t}approvals (mission, plan_digest)",
    ],
    [
        "ALTER TABLE {t}approvals ADD COLUMN revoked_at DOUBLE PRECISION",
        "ALTER TABLE {t}approvals ADD COLUMN revoked_by TEXT",
    ],
    [
        """CREATE TABLE {t}live_log (
            n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            mission TEXT NOT NULL,
            kind TEXT NOT NULL,
            address TEXT,
            at DOUBLE PRECISION NOT NULL,
            data JSONB NOT NULL
        )""",
        "CREATE INDEX live_log_by_mission ON {t}live_log (mission, n)",
    ],
]

assert len(SQLITE) == len(POSTGRES) == SCHEMA_VERSION, "one migration per schema version"


def pending(migrations: list[list[str]], current: int, prefix: str) -> list[tuple[int, list[str]]]:
    """The migrations to run on a store at schema ``current``, with table names filled in."""
    return [
        (version, [sql.format(t=prefix) for sql in migrations[version - 1]])
        for version in range(current + 1, len(migrations) + 1)
    ]
