"""What the simulated API rejects in ``POST /tasks/``, as Django REST Framework field errors.

The service's error bodies are undocumented (REFERENCE.md, gaps); it is a DRF application
(paginated lists, ``{"detail": ...}``), so the simulator answers 400 with DRF's shape and
DRF's stock messages where a stock field applies, ``{"field": ["message", ...]}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ..geometry import contains
from ..temporal import parse_age, parse_instant

REQUIRED = ("task_name", "project_name", "product", "target", "start", "end")
DATETIME_FORMAT = (
    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
DURATION_FORMAT = "Duration has wrong format. Use one of these formats instead: [DD] [HH:[MM:]]ss[.uuuuuu]."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _geometry_error(target: Any) -> str | None:
    if not isinstance(target, Mapping) or target.get("type") not in ("Point", "Polygon"):
        return "Invalid geometry: a GeoJSON Point or Polygon is expected."
    coords = target.get("coordinates")

    def position(p: Any) -> bool:
        return (
            isinstance(p, list)
            and 2 <= len(p) <= 3
            and all(isinstance(c, (int, float)) for c in p)
            and -180 <= p[0] <= 180
            and -90 <= p[1] <= 90
        )

    if target["type"] == "Point":
        return None if position(coords) else "Invalid geometry: Point coordinates must be [longitude, latitude]."
    if not isinstance(coords, list) or not coords:
        return "Invalid geometry: a Polygon needs at least one ring."
    for ring in coords:
        if not isinstance(ring, list) or len(ring) < 4 or not all(position(p) for p in ring):
            return "Invalid geometry: LinearRing requires at least 4 valid positions."
        if ring[0][:2] != ring[-1][:2]:
            return "Invalid geometry: LinearRing is not closed."
    return None


def task_errors(
    body: Any,
    products: list[Mapping[str, Any]],
    client: Mapping[str, Any] | None,
    clients: list[Mapping[str, Any]],
    now: datetime,
) -> dict[str, list[str]]:
    """Field errors of a task creation request; empty when the service would accept it."""
    if not isinstance(body, Mapping):
        return {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name in REQUIRED:
        if body.get(name) is None:
            add(name, "This field is required.")
    for name in ("task_name", "project_name"):
        if name in body and isinstance(body[name], str) and not body[name].strip():
            add(name, "This field may not be blank.")
    product = body.get("product")
    chosen_product = None
    if product is not None:
        if not _is_int(product):
            add("product", f"Incorrect type. Expected pk value, received {type(product).__name__}.")
        else:
            chosen_product = next((p for p in products if p["pk"] == product), None)
            if chosen_product is None:
                add("product", f'Invalid pk "{product}" - object does not exist.')
    target = body.get("target")
    if target is not None:
        problem = _geometry_error(target)
        if problem:
            add("target", problem)
        elif chosen_product is not None and chosen_product.get("target") not in (None, target["type"]):
            add("target", f"Product {product} requires a {chosen_product['target']} target.")
    start, end = (parse_instant(body.get(k)) if body.get(k) is not None else None for k in ("start", "end"))
    for name, value in (("start", start), ("end", end)):
        if body.get(name) is not None and value is None:
            add(name, DATETIME_FORMAT)
    if start and end and end <= start:
        add("non_field_errors", "The end of the capture window must be after its start.")
    if end and end <= now:
        add("end", "The end of the capture window must be in the future.")
    for name in ("max_captures", "max_simultaneous_captures"):
        value = body.get(name)
        if value is not None and not _is_int(value):
            add(name, "A valid integer is required.")
        elif value is not None and value < 1:
            add(name, "Ensure this value is greater than or equal to 1.")
    most, simultaneous = body.get("max_captures", 1), body.get("max_simultaneous_captures")
    if _is_int(most) and _is_int(simultaneous) and simultaneous < most:
        add("max_simultaneous_captures", "Ensure this value is greater than or equal to max_captures.")
    age = body.get("expected_age")
    if age is not None:
        period = parse_age(age)
        if period is None:
            add("expected_age", DURATION_FORMAT)
        elif period <= timedelta(0):
            add("expected_age", "Ensure this value is greater than 0.")
        if isinstance(target, Mapping) and target.get("type") == "Polygon":
            add("expected_age", "Recurrence (expected_age) is not available for AOI tasks.")
    _client_errors(body, client, clients, target, add)
    return errors


def _client_errors(
    body: Mapping[str, Any], client: Mapping[str, Any] | None, clients: list[Mapping[str, Any]], target: Any, add: Any
) -> None:
    if client is None:
        if body.get("client") is not None:
            add("client", f'Invalid client "{body["client"]}".')
        else:
            add("client", "This field is required when the account manages several clients.")
        return
    priority = body.get("priority")
    if priority is not None:
        if not _is_int(priority):
            add("priority", "A valid integer is required.")
        elif not client["max_priority"] <= priority <= client["min_priority"]:
            add("priority", f"Priority must be between {client['max_priority']} and {client['min_priority']}.")
    fence = client.get("geofence")
    if fence and isinstance(target, Mapping) and _geometry_error(target) is None and not contains(fence, target):
        add("target", "Target is outside the client's geofence.")


def utc(value: datetime) -> str:
    """DRF's rendering of an aware datetime in UTC."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
