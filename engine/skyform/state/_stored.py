"""Resource rows as read from SQL: each JSON column is decoded when first used, for all rows at once.

A command reads the mission's state once (issue 16), but rarely needs every column of every
row: ``status`` and a few outputs after an apply, the types to start a sandbox, the specs
and outputs of a plan. Decoding the five JSON columns of 10,000 rows up front, one
``json.loads`` per cell, was most of a state read. Here a read keeps each JSON column as the
driver returned it (:class:`Columns`); the first access to, say, ``spec`` of any row decodes
the ``spec`` column of every row in ONE parser call (a JSON array made of the cells' texts),
which costs a fraction of 10,000 separate calls. A column never used is never decoded, and a
row written back with a column nobody decoded writes the text it was read with.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

from .base import ResourceState

#: The columns kept as read until used, in the order of a resource row's JSON cells.
JSON_COLUMNS = ("spec", "outputs", "observed", "private", "depends_on")

_loads = json.loads


def load(value: Any) -> Any:
    """A JSON cell's value, whether the driver returns text or decoded JSON."""
    if value.__class__ is str:
        # Empty objects and lists are most of observed/private/depends_on: skip the parser.
        if value == "{}":
            return {}
        if value == "[]":
            return []
        return _loads(value)
    if isinstance(value, bytes):
        return _loads(value)
    return value


class Columns:
    """The JSON cells of one read, by column, and each column's values once decoded."""

    def __init__(self, cells: dict[str, list[Any]]) -> None:
        self.cells = cells
        self.decoded: dict[str, list[Any]] = {}
        self._lock = threading.Lock()  # refresh workers touch the records from many threads

    def value(self, column: str, row: int) -> Any:
        """Row ``row``'s value of ``column`` (the whole column is decoded on first use)."""
        values = self.decoded.get(column)
        if values is None:
            with self._lock:
                values = self.decoded.get(column)
                if values is None:
                    values = self.decoded[column] = _decode_all(self.cells[column])
        return values[row]

    def text(self, column: str, row: int) -> str | None:
        """The cell as read, when it is text (SQLite; PostgreSQL's JSONB comes decoded)."""
        cell = self.cells[column][row]
        return cell if cell.__class__ is str else None


def _decode_all(cells: Sequence[Any]) -> list[Any]:
    """Every cell of a column: text cells through one parser call, others as they are."""
    if all(c.__class__ is str for c in cells):
        return list(_loads("[" + ",".join(cells) + "]")) if cells else []
    return [load(c) for c in cells]


class _Decoded:
    """A JSON column decoded on first access, then an ordinary instance attribute.

    A non-data descriptor: Python consults it only while the instance's ``__dict__`` lacks
    the name, so once decoded (or assigned) an access costs what any attribute does.
    """

    __slots__ = ("name",)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, rs: Any, owner: type | None = None) -> Any:
        if rs is None:
            return self
        found = rs.__dict__
        return found.setdefault(self.name, found["_columns"].value(self.name, found["_row"]))


class StoredResource(ResourceState):
    """A :class:`ResourceState` whose JSON columns are decoded on first access.

    It is a ``ResourceState`` in every other respect: equal to one with the same fields,
    copied, replaced (``dataclasses.replace`` builds a plain, decoded one) and written back
    like one.
    """

    __hash__ = None  # type: ignore[assignment]  # mutable, as its base

    spec = _Decoded()
    outputs = _Decoded()
    observed = _Decoded()
    private = _Decoded()
    depends_on = _Decoded()

    def undecoded(self, name: str) -> str | None:
        """The text of column ``name`` as read, while nothing decoded or replaced it (None
        after, or when the driver decoded it itself): a row written back unchanged is not
        encoded again."""
        if name in self.__dict__:
            return None
        found = self.__dict__
        columns: Columns = found["_columns"]
        return columns.text(name, found["_row"])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResourceState):
            return NotImplemented
        return _fields(self) == _fields(other)


def stored_resources(rows: Sequence[Sequence[Any]]) -> dict[str, ResourceState]:
    """Records keyed by address from rows of ``address, type, status, idempotency_key,
    intent_at, remote_id, spec, outputs, observed, private, depends_on, error, created_at,
    updated_at`` (the five JSON cells kept as read)."""
    columns = Columns({name: [row[6 + i] for row in rows] for i, name in enumerate(JSON_COLUMNS)})
    out: dict[str, ResourceState] = {}
    new = StoredResource.__new__
    for i, row in enumerate(rows):
        rs = new(StoredResource)
        rs.__dict__.update(
            address=row[0],
            type=row[1],
            status=row[2],
            idempotency_key=row[3],
            intent_at=row[4],
            remote_id=row[5],
            error=row[11],
            created_at=row[12],
            updated_at=row[13],
            _columns=columns,
            _row=i,
        )
        out[row[0]] = rs
    return out


def _fields(rs: ResourceState) -> tuple[Any, ...]:
    return (
        rs.address,
        rs.type,
        rs.status,
        rs.idempotency_key,
        rs.intent_at,
        rs.remote_id,
        rs.spec,
        rs.outputs,
        rs.observed,
        rs.private,
        rs.depends_on,
        rs.error,
        rs.created_at,
        rs.updated_at,
    )
