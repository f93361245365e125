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
from contextlib import AbstractContextManager
from typing import Any, Sequence

from .base import Event, MissionState, Removal, ResourceState, StateStore

_RESOURCE_COLUMNS = (
    "address", "type", "status", "idempotency_key", "intent_at", "remote_id", "spec", "outputs",
    "observed", "private", "depends_on", "error", "created_at", "updated_at",
)
_JSON_RESOURCE_COLUMNS = frozenset({"spec", "outputs", "observed", "private", "depends_on"})
_MISSION_FIELDS = frozenset({"spec_digest", "outputs", "attributes"})


def dump(value: Any) -> str:
    """JSON text for a column; strict, so a value JSON cannot hold fails the write."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def load(value: Any) -> Any:
    """A JSON column's value, whether the driver returns text or decoded JSON."""
    if isinstance(value, (str, bytes)):
        return json.loads(value)
    return value


class SqlStateStore(StateStore):
    """Reading and transactional writing of missions, resources and events over SQL."""

    _placeholder = "?"
    _prefix = ""

    # -- provided by the backend ------------------------------------------------------------
    def _reading(self) -> AbstractContextManager[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _writing(self) -> AbstractContextManager[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        sql = sql.replace("{t}", self._prefix)
        return sql if self._placeholder == "?" else sql.replace("?", self._placeholder)

    # -- reading -------------------------------------------------------------------------------
    def mission(self, name: str) -> MissionState | None:
        with self._reading() as cur:
            cur.execute(self._sql(
                "SELECT name, serial, lineage, spec_digest, outputs, attributes, updated_at"
                " FROM {t}missions WHERE name = ?"), (name,))
            row = cur.fetchone()
        return _mission(row) if row else None

    def missions(self) -> list[MissionState]:
        with self._reading() as cur:
            cur.execute(self._sql(
                "SELECT name, serial, lineage, spec_digest, outputs, attributes, updated_at"
                " FROM {t}missions ORDER BY name"))
            rows = cur.fetchall()
        return [_mission(row) for row in rows]

    def resources(self, mission: str) -> dict[str, ResourceState]:
        columns = ", ".join(_RESOURCE_COLUMNS)
        with self._reading() as cur:
            cur.execute(self._sql(
                f"SELECT {columns} FROM {{t}}resources WHERE mission = ? ORDER BY address"), (mission,))
            rows = cur.fetchall()
        out: dict[str, ResourceState] = {}
        for row in rows:
            values = {
                col: load(v) if col in _JSON_RESOURCE_COLUMNS else v
                for col, v in zip(_RESOURCE_COLUMNS, row)
            }
            out[values["address"]] = ResourceState(**values)
        return out

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

    # -- writing -------------------------------------------------------------------------------
    def write(
        self,
        mission: str,
        resources: Sequence[ResourceState | Removal] = (),
        events: Sequence[Event] = (),
        *,
        mission_update: dict[str, Any] | None = None,
    ) -> int:
        update = dict(mission_update or {})
        unknown = set(update) - _MISSION_FIELDS
        if unknown:
            raise ValueError(f"mission_update may set {sorted(_MISSION_FIELDS)}, not {sorted(unknown)}")
        now = time.time()
        with self._writing() as cur:
            serial = self._bump_mission(cur, mission, update, now)
            for item in resources:
                if isinstance(item, Removal):
                    cur.execute(self._sql("DELETE FROM {t}resources WHERE mission = ? AND address = ?"),
                                (mission, item.address))
                else:
                    self._upsert_resource(cur, mission, item, now)
            for event in events:
                cur.execute(self._sql(
                    "INSERT INTO {t}events (mission, kind, address, before, after, data, at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)"),
                    (mission, event.kind, event.address, event.before, event.after, dump(event.data),
                     event.at or now))
        return serial

    def _bump_mission(self, cur: Any, mission: str, update: dict[str, Any], now: float) -> int:
        cur.execute(self._sql("SELECT serial, attributes FROM {t}missions WHERE name = ?"), (mission,))
        row = cur.fetchone()
        attributes = dict(load(row[1])) if row else {}
        # Attributes merge (a key set to None is removed) so that gitops and the engine can
        # each record theirs without erasing the other's.
        for key, value in (update.get("attributes") or {}).items():
            if value is None:
                attributes.pop(key, None)
            else:
                attributes[key] = value
        if row is None:
            cur.execute(self._sql(
                "INSERT INTO {t}missions (name, serial, lineage, spec_digest, outputs, attributes, updated_at)"
                " VALUES (?, 1, ?, ?, ?, ?, ?)"),
                (mission, str(uuid.uuid4()), update.get("spec_digest", ""), dump(update.get("outputs", {})),
                 dump(attributes), now))
            return 1
        serial = int(row[0]) + 1
        sets, params = ["serial = ?", "updated_at = ?", "attributes = ?"], [serial, now, dump(attributes)]
        if "spec_digest" in update:
            sets.append("spec_digest = ?")
            params.append(update["spec_digest"])
        if "outputs" in update:
            sets.append("outputs = ?")
            params.append(dump(update["outputs"]))
        cur.execute(self._sql(f"UPDATE {{t}}missions SET {', '.join(sets)} WHERE name = ?"), (*params, mission))
        return serial

    def _upsert_resource(self, cur: Any, mission: str, res: ResourceState, now: float) -> None:
        values = []
        for col in _RESOURCE_COLUMNS:
            value = getattr(res, col)
            if col in _JSON_RESOURCE_COLUMNS:
                value = dump(value)
            elif col in ("created_at", "updated_at") and not value:
                value = now
            values.append(value)
        columns = ", ".join(("mission",) + _RESOURCE_COLUMNS)
        marks = ", ".join("?" for _ in range(len(_RESOURCE_COLUMNS) + 1))
        # created_at keeps its first value across upserts unless the caller sets one.
        updates = ", ".join(
            f"{c} = excluded.{c}" for c in _RESOURCE_COLUMNS if c not in ("address", "created_at")
        )
        created = "created_at = excluded.created_at, " if res.created_at else ""
        cur.execute(self._sql(
            f"INSERT INTO {{t}}resources ({columns}) VALUES ({marks})"
            f" ON CONFLICT (mission, address) DO UPDATE SET {created}{updates}"),
            (mission, *values))

    def delete_mission(self, mission: str) -> None:
        with self._writing() as cur:
            cur.execute(self._sql("DELETE FROM {t}resources WHERE mission = ?"), (mission,))
            cur.execute(self._sql("DELETE FROM {t}missions WHERE name = ?"), (mission,))


def _mission(row: Sequence[Any]) -> MissionState:
    name, serial, lineage, digest, outputs, attributes, updated_at = row
    return MissionState(
        name=name, serial=int(serial), lineage=lineage, spec_digest=digest,
        outputs=load(outputs), attributes=load(attributes), updated_at=updated_at,
    )
