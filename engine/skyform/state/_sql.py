"""The StateStore operations both SQL backends share: rows in, dataclasses out.

A backend supplies three things: ``_reading()`` and ``_writing()`` context managers that
yield a DB-API cursor (the latter inside one transaction, rolled back on any exception),
and ``_prefix``, the table-name prefix. SQL here is written with ``?`` placeholders;
``_sql()`` turns them into the backend's style. JSON columns are written as text and read
back from text (SQLite) or already decoded (PostgreSQL's JSONB).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from ._sql_approvals import SqlApprovals
from ._sql_live import SqlLiveLog
from ._stored import StoredResource, load, stored_resources
from .base import Event, LiveRecord, MissionState, Removal, ResourceState, StateStore
from .leases import Leases

_RESOURCE_COLUMNS = (
    "address",
    "type",
    "status",
    "idempotency_key",
    "intent_at",
    "remote_id",
    "spec",
    "outputs",
    "observed",
    "private",
    "depends_on",
    "error",
    "created_at",
    "updated_at",
)
_JSON_RESOURCE_COLUMNS = frozenset({"spec", "outputs", "observed", "private", "depends_on"})
_MISSION_FIELDS = frozenset({"spec_digest", "outputs", "attributes"})


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def dump(value: Any) -> str:
    """JSON text for a column; strict, so a value JSON cannot hold fails the write."""
    return _ENCODER.encode(value)


class SqlStateStore(SqlApprovals, SqlLiveLog, StateStore):
    """Reading and transactional writing of missions, resources and events over SQL."""

    _placeholder = "?"
    _prefix = ""

    # -- provided by the backend ------------------------------------------------------------
    def _reading(self) -> AbstractContextManager[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _writing(self) -> AbstractContextManager[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        cache = self.__dict__.setdefault("_sql_cache", {})
        text = cache.get(sql)
        if text is None:
            text = sql.replace("{t}", self._prefix)
            if self._placeholder != "?":
                text = text.replace("?", self._placeholder)
            cache[sql] = text
        return text

    def _dump(self, value: Any) -> str:
        return dump(value)

    def _load(self, value: Any) -> Any:
        return load(value)

    def leases(self) -> Leases:
        """The lease and worker tables beside this state (:mod:`.leases`)."""
        return Leases(self)

    # -- reading -------------------------------------------------------------------------------
    def mission(self, name: str) -> MissionState | None:
        with self._reading() as cur:
            cur.execute(
                self._sql(
                    "SELECT name, serial, lineage, spec_digest, outputs, attributes, updated_at"
                    " FROM {t}missions WHERE name = ?"
                ),
                (name,),
            )
            row = cur.fetchone()
        return _mission(row) if row else None

    def missions(self) -> list[MissionState]:
        with self._reading() as cur:
            cur.execute(
                self._sql(
                    "SELECT name, serial, lineage, spec_digest, outputs, attributes, updated_at"
                    " FROM {t}missions ORDER BY name"
                )
            )
            rows = cur.fetchall()
        return [_mission(row) for row in rows]

    def has_resources(self, mission: str) -> bool:
        with self._reading() as cur:
            cur.execute(self._sql("SELECT 1 FROM {t}resources WHERE mission = ? LIMIT 1"), (mission,))
            return cur.fetchone() is not None

    def statuses(self, mission: str) -> dict[str, tuple[str, str]]:
        with self._reading() as cur:
            cur.execute(self._sql("SELECT address, type, status FROM {t}resources WHERE mission = ?"), (mission,))
            return {address: (type_, status) for address, type_, status in cur.fetchall()}

    def resources(self, mission: str) -> dict[str, ResourceState]:
        columns = ", ".join(_RESOURCE_COLUMNS)
        with self._reading() as cur:
            cur.execute(
                self._sql(f"SELECT {columns} FROM {{t}}resources WHERE mission = ? ORDER BY address"), (mission,)
            )
            rows = cur.fetchall()
        # one read, decoded lazily: most commands use few columns of most rows
        return stored_resources(rows)

    def events(self, mission: str, *, address: str | None = None, limit: int | None = None) -> list[Event]:
        where = "mission = ?"
        params: list[object] = [mission]
        if address is not None:
            where += " AND address = ?"
            params.append(address)
        sql = f"SELECT seq, kind, address, before, after, data, at FROM {{t}}events WHERE {where} ORDER BY seq DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._reading() as cur:
            cur.execute(self._sql(sql), tuple(params))
            rows = cur.fetchall()
        return [
            Event(kind=kind, address=addr, before=before, after=after, data=load(data), at=at, seq=seq)
            for seq, kind, addr, before, after, data, at in reversed(rows)
        ]

    def events_after(self, mission: str, seq: int, *, limit: int = 1000) -> list[Event]:
        sql = (
            "SELECT seq, kind, address, before, after, data, at FROM {t}events"
            " WHERE mission = ? AND seq > ? ORDER BY seq LIMIT ?"
        )
        with self._reading() as cur:
            cur.execute(self._sql(sql), (mission, int(seq), int(limit)))
            rows = cur.fetchall()
        return [
            Event(kind=kind, address=addr, before=before, after=after, data=load(data), at=at, seq=seq)
            for seq, kind, addr, before, after, data, at in rows
        ]

    # -- writing -------------------------------------------------------------------------------
    def write(
        self,
        mission: str,
        resources: Sequence[ResourceState | Removal] = (),
        events: Sequence[Event] = (),
        *,
        mission_update: dict[str, Any] | None = None,
    ) -> int:
        return self._write(mission, resources, events, mission_update)

    def write_with_live(
        self,
        mission: str,
        resources: Sequence[ResourceState | Removal],
        events: Sequence[Event],
        live: Sequence[LiveRecord],
        *,
        keep: int,
    ) -> int:
        return self._write(mission, resources, events, None, live, keep)

    def _write(
        self,
        mission: str,
        resources: Sequence[ResourceState | Removal],
        events: Sequence[Event],
        mission_update: dict[str, Any] | None,
        live: Sequence[LiveRecord] = (),
        keep: int = 0,
    ) -> int:
        """One transaction: the live records first (older than what the tick decided), the
        ledger, the serial, the rows and the events."""
        update = dict(mission_update or {})
        unknown = set(update) - _MISSION_FIELDS
        if unknown:
            raise ValueError(f"mission_update may set {sorted(_MISSION_FIELDS)}, not {sorted(unknown)}")
        now = time.time()
        with self._writing() as cur:
            if live:
                self._add_live_in(cur, mission, live, keep)
            self._keep_spent(cur, mission, [r.address for r in resources if isinstance(r, Removal)], update, now)
            serial = self._bump_mission(cur, mission, update, now)
            for item in resources:
                if isinstance(item, Removal):
                    cur.execute(
                        self._sql("DELETE FROM {t}resources WHERE mission = ? AND address = ?"), (mission, item.address)
                    )
                else:
                    self._upsert_resource(cur, mission, item, now)
            if events:
                cur.executemany(
                    self._sql(
                        "INSERT INTO {t}events (mission, kind, address, before, after, data, at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)"
                    ),
                    [(mission, e.kind, e.address, e.before, e.after, dump(e.data), e.at or now) for e in events],
                )
        return serial

    def _keep_spent(self, cur: Any, mission: str, addresses: list[str], update: dict[str, Any], now: float) -> None:
        """Move what the records about to be removed had cost to the mission's ledger, in this
        transaction: money spent stays counted when its record goes (:mod:`.spend`)."""
        if not addresses:
            return
        from . import spend

        kept: list[dict[str, Any]] = []
        for address in addresses:
            cur.execute(
                self._sql("SELECT private FROM {t}resources WHERE mission = ? AND address = ?"), (mission, address)
            )
            row = cur.fetchone()
            if row is not None:
                kept += spend.removed(load(row[0]), address, now)
        if not kept:
            return
        cur.execute(self._sql("SELECT attributes FROM {t}missions WHERE name = ?"), (mission,))
        row = cur.fetchone()
        recorded = load(row[0]) if row else {}
        before = recorded.get(spend.LEDGER_KEY)
        before = before if isinstance(before, list) else []
        attributes = dict(update.get("attributes") or {})
        attributes[spend.LEDGER_KEY] = [*before, *kept]
        update["attributes"] = attributes

    def _bump_mission(self, cur: Any, mission: str, update: dict[str, Any], now: float) -> int:
        sets: list[str] = ["serial = serial + 1", "updated_at = ?"]
        params: list[object] = [now]
        if "attributes" in update:
            cur.execute(self._sql("SELECT attributes FROM {t}missions WHERE name = ?"), (mission,))
            row = cur.fetchone()
            sets.append("attributes = ?")
            params.append(dump(_merged(load(row[0]) if row else {}, update["attributes"])))
        if "spec_digest" in update:
            sets.append("spec_digest = ?")
            params.append(update["spec_digest"])
        if "outputs" in update:
            sets.append("outputs = ?")
            params.append(dump(update["outputs"]))
        cur.execute(
            self._sql(f"UPDATE {{t}}missions SET {', '.join(sets)} WHERE name = ? RETURNING serial"), (*params, mission)
        )
        row = cur.fetchone()
        if row is not None:
            return int(row[0])
        cur.execute(
            self._sql(
                "INSERT INTO {t}missions (name, serial, lineage, spec_digest, outputs, attributes, updated_at)"
                " VALUES (?, 1, ?, ?, ?, ?, ?)"
            ),
            (
                mission,
                str(uuid.uuid4()),
                update.get("spec_digest", ""),
                dump(update.get("outputs", {})),
                dump(_merged({}, update.get("attributes") or {})),
                now,
            ),
        )
        return 1

    def _upsert_resource(self, cur: Any, mission: str, res: ResourceState, now: float) -> None:
        cur.execute(
            self._sql(_UPSERT if res.created_at else _UPSERT_KEEP_CREATED),
            (
                mission,
                res.address,
                res.type,
                res.status,
                res.idempotency_key,
                res.intent_at,
                res.remote_id,
                _column(res, "spec"),
                _column(res, "outputs"),
                _column(res, "observed"),
                _column(res, "private"),
                _column(res, "depends_on"),
                res.error,
                res.created_at or now,
                res.updated_at or now,
            ),
        )

    def delete_mission(self, mission: str) -> None:
        with self._writing() as cur:
            cur.execute(self._sql("DELETE FROM {t}resources WHERE mission = ?"), (mission,))
            cur.execute(self._sql("DELETE FROM {t}missions WHERE name = ?"), (mission,))
            cur.execute(self._sql("DELETE FROM {t}live_log WHERE mission = ?"), (mission,))


def _column(res: ResourceState, name: str) -> str:
    """A JSON column's text: as read when it was never decoded (not encoded again), else encoded."""
    if isinstance(res, StoredResource):
        text = res.undecoded(name)
        if text is not None:
            return text
    return dump(getattr(res, name))


def _merged(attributes: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Attributes merge (a key set to None is removed), so that gitops and the engine can
    each record theirs without erasing the other's."""
    out = dict(attributes)
    for key, value in update.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _upsert(keep_created: bool) -> str:
    columns = ", ".join(("mission",) + _RESOURCE_COLUMNS)
    marks = ", ".join("?" for _ in range(len(_RESOURCE_COLUMNS) + 1))
    kept = ("address", "created_at") if keep_created else ("address",)
    updates = ", ".join(f"{c} = excluded.{c}" for c in _RESOURCE_COLUMNS if c not in kept)
    return (
        f"INSERT INTO {{t}}resources ({columns}) VALUES ({marks})"
        f" ON CONFLICT (mission, address) DO UPDATE SET {updates}"
    )


# created_at keeps its first value across upserts unless the caller sets one.
_UPSERT = _upsert(keep_created=False)
_UPSERT_KEEP_CREATED = _upsert(keep_created=True)


def _mission(row: Sequence[Any]) -> MissionState:
    name, serial, lineage, digest, outputs, attributes, updated_at = row
    return MissionState(
        name=name,
        serial=int(serial),
        lineage=lineage,
        spec_digest=digest,
        outputs=load(outputs),
        attributes=load(attributes),
        updated_at=updated_at,
    )
