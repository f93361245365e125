"""Offline rules of a satellogic.Task spec that a JSON Schema cannot state.

Each rule comes from the Tasking API documentation (or GeoJSON, RFC 7946): the window
ends after it starts; polygon rings are closed; expected_age is for POI tasks only and is
a positive period; max_simultaneous_captures is at least max_captures. Values not known
until apply are skipped here and checked again once resolved.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from skyform.errors import Issue
from skyform.providers import CheckContext
from skyform.spec.values import is_known

from .temporal import parse_age, parse_instant


def task_issues(spec: Mapping[str, Any], ctx: CheckContext) -> Iterator[Issue]:
    """Every semantic problem of a Task spec, each pointing at its field."""
    yield from _window(spec, ctx)
    yield from _target(spec)
    yield from _recurrence(spec)
    yield from _captures(spec)


def _instant(spec: Mapping[str, Any], name: str) -> tuple[datetime | None, Issue | None]:
    value = spec.get(name)
    if value is None or not is_known(value):
        return None, None
    parsed = parse_instant(value)
    if parsed is None and isinstance(value, str):
        return None, Issue(
            (name,),
            f"{value!r} is not a valid ISO 8601 date-time with an offset",
            hint="e.g. 2026-12-01T00:00:00+00:00 or 2026-12-01T00:00:00Z",
        )
    return parsed, None


def _window(spec: Mapping[str, Any], ctx: CheckContext) -> Iterator[Issue]:
    start, bad_start = _instant(spec, "start")
    end, bad_end = _instant(spec, "end")
    for issue in (bad_start, bad_end):
        if issue is not None:
            yield issue
    if start is not None and end is not None and end <= start:
        yield Issue(
            ("end",),
            f"end {spec['end']} must be after start {spec['start']}",
            hint="the capture window runs from start to end",
        )
    if end is not None and end.astimezone(UTC).date() < ctx.today:
        yield Issue(
            ("end",),
            f"end {spec['end']} is in the past (today is {ctx.today.isoformat()}): "
            "a window that has ended cannot be captured",
            hint="move the window to the future",
        )


def _target(spec: Mapping[str, Any]) -> Iterator[Issue]:
    target = spec.get("target")
    if not isinstance(target, Mapping) or not is_known(target) or target.get("type") != "Polygon":
        return
    rings = target.get("coordinates")
    if not isinstance(rings, list):
        return
    for i, ring in enumerate(rings):
        if not isinstance(ring, list) or len(ring) < 4 or not all(isinstance(p, list) and len(p) >= 2 for p in ring):
            continue  # the schema reports short rings and bad positions
        if ring[0] != ring[-1]:
            yield Issue(
                ("target", "coordinates", i),
                f"ring {i} is not closed: its last position {ring[-1]} must equal its first {ring[0]}",
                hint="GeoJSON polygons repeat the first position at the end of each ring",
            )
        elif len({(p[0], p[1]) for p in ring}) < 3:
            yield Issue(
                ("target", "coordinates", i), f"ring {i} has fewer than 3 distinct positions: it encloses no area"
            )


def _recurrence(spec: Mapping[str, Any]) -> Iterator[Issue]:
    age = spec.get("expected_age")
    if age is None or not is_known(age):
        return
    target = spec.get("target")
    if isinstance(target, Mapping) and is_known(target) and target.get("type") == "Polygon":
        yield Issue(
            ("expected_age",),
            "expected_age (recurrence) is available for POI tasks only, not for AOI tasks (Polygon target)",
            hint="remove expected_age, or task a Point target",
        )
    period = parse_age(age)
    if period is None:
        return  # the schema's pattern reports the format
    if period.total_seconds() <= 0:
        yield Issue(("expected_age",), f"expected_age {age!r} must be a positive period, e.g. '7 days, 00:00:00'")
        return
    start, end = parse_instant(spec.get("start")), parse_instant(spec.get("end"))
    if spec.get("wait_for") == "completed" and end is not None:
        yield Issue(
            ("wait_for",),
            f"a recurring task completes only when its window ends ({spec['end']}): the apply waits until then",
            severity="warning",
            hint="wait_for: accepted (the default for recurring tasks) or first_capture",
        )
    if start and end and end > start and (end - start) < period:
        yield Issue(
            ("expected_age",),
            f"expected_age {age!r} is longer than the window {spec['start']} to "
            f"{spec['end']}: the task recurs at most once",
            severity="warning",
        )


def _captures(spec: Mapping[str, Any]) -> Iterator[Issue]:
    most, simultaneous = spec.get("max_captures", 1), spec.get("max_simultaneous_captures")
    if simultaneous is None or not is_known(simultaneous) or not is_known(most):
        return
    if isinstance(most, int) and isinstance(simultaneous, int) and simultaneous < most:
        yield Issue(
            ("max_simultaneous_captures",),
            f"max_simultaneous_captures {simultaneous} must be greater than or equal to max_captures {most}",
            hint="omit it to plan exactly max_captures captures",
        )
