"""The create-job rules as the API words them, and those a schema cannot state.

Each rule yields an :class:`~skyform.errors.Issue` at the field it concerns. The eleven
rules whose message the create-job page quotes are stated here with that message even
where the schema also holds them (the schema keeps ranges and lengths for editors; the
engine reports jsonschema's wording for those), so the user always reads the vendor's
words. Values not known until apply (``Unknown``) are skipped; the engine checks again
once they are resolved.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from skyform.errors import Issue
from skyform.spec.values import is_known

from . import vocabulary as v
from .dates import calendar_date, months_before
from .schemas import ISO_DATE_PATTERN

_ISO = re.compile(ISO_DATE_PATTERN)


def _known(spec: Mapping[str, Any], field: str) -> Any:
    value = spec.get(field)
    return value if is_known(value) else None


def _date(spec: Mapping[str, Any], field: str, message: str, issues: list[Issue]) -> date | None:
    """The field's calendar date; an issue when it is not an ISO date naming a real day."""
    value = _known(spec, field)
    if value is None:
        return None
    parsed = calendar_date(value) if isinstance(value, str) and _ISO.match(value) else None
    if parsed is None:
        issues.append(
            Issue((field,), message, hint=f"{value!r} is not a calendar date; write YYYY-MM-DD, e.g. 2026-04-15")
        )
    return parsed


def date_issues(spec: Mapping[str, Any], today: date) -> list[Issue]:
    """start_date valid and at most 6 months old; end_date valid and not before start_date."""
    issues: list[Issue] = []
    start = _date(spec, "start_date", v.START_DATE_ISO, issues)
    end = _date(spec, "end_date", v.END_DATE_ISO, issues)
    earliest = months_before(today, 6)
    if start is not None and start < earliest:
        issues.append(
            Issue(
                ("start_date",),
                v.START_DATE_TOO_OLD,
                hint=f"the earliest start_date accepted today is {earliest.isoformat()}",
            )
        )
    if start is not None and end is not None and end < start:
        issues.append(
            Issue(
                ("end_date",),
                v.END_AFTER_START,
                hint=f"end_date {end.isoformat()} is before start_date {start.isoformat()}",
            )
        )
    return issues


def documented_field_issues(spec: Mapping[str, Any]) -> Iterator[Issue]:
    """The per-field rules whose message the create-job page quotes, in its words."""

    def where(field: str) -> tuple[str, ...]:
        return (field,) if field in spec else ()

    name = spec.get("name")
    if is_known(name) and not (isinstance(name, str) and 1 <= len(name) <= 100):
        yield Issue(where("name"), v.NAME_LENGTH, hint="name is required, 1 to 100 characters")
    if is_known(spec.get("type")) and spec.get("type") in (None, ""):
        yield Issue(where("type"), v.TYPE_REQUIRED, hint="e.g. drone_inspection, thermal_inspection, 3d_mapping")
    if is_known(spec.get("job_pattern")) and spec.get("job_pattern") not in v.JOB_PATTERNS:
        yield Issue(where("job_pattern"), v.JOB_PATTERN_ENUM)
    if "start_date" not in spec or spec.get("start_date") is None:
        yield Issue((), v.START_DATE_REQUIRED, hint='e.g. start_date: "2026-04-15"')
    for field, low, high, message in (
        ("latitude", -90, 90, v.LATITUDE_RANGE),
        ("longitude", -180, 180, v.LONGITUDE_RANGE),
    ):
        value = _known(spec, field)
        if value is not None and not (
            isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high
        ):
            yield Issue((field,), message)
    external_id = _known(spec, "external_id")
    if isinstance(external_id, str) and len(external_id) > 255:
        yield Issue(("external_id",), v.EXTERNAL_ID_LENGTH, hint=f"it has {len(external_id)} characters")


def location_issues(spec: Mapping[str, Any]) -> Iterator[Issue]:
    """latitude and longitude come together or not at all."""
    has_lat, has_lon = spec.get("latitude") is not None, spec.get("longitude") is not None
    if has_lat != has_lon:
        present, missing = ("latitude", "longitude") if has_lat else ("longitude", "latitude")
        yield Issue((present,), v.LAT_LON_TOGETHER, hint=f"add {missing}, or remove {present}")


def status_issues(spec: Mapping[str, Any]) -> Iterator[Issue]:
    """status other needs other_status_reason."""
    if _known(spec, "status") == "other" and spec.get("other_status_reason") is None:
        yield Issue(
            ("status",),
            v.OTHER_REASON_REQUIRED,
            hint="add other_status_reason (1 to 200 characters) saying what the status is",
        )


def recurring_issues(spec: Mapping[str, Any]) -> Iterator[Issue]:
    """Recurring fields only with job_pattern recurring; no interval with flexible frequency."""
    pattern = spec.get("job_pattern")
    if is_known(pattern) and pattern != "recurring":
        for field in v.RECURRING_FIELDS:
            if spec.get(field) is not None:
                yield Issue(
                    (field,),
                    v.RECURRING_ONLY.format(field=field),
                    hint=f"set job_pattern: recurring, or remove {field}",
                )
    if _known(spec, "recurring_frequency") == "flexible" and spec.get("recurring_interval") is not None:
        yield Issue(
            ("recurring_interval",),
            v.INTERVAL_NOT_FLEXIBLE,
            hint="remove recurring_interval, or choose daily, weekly, monthly or yearly",
        )


def job_issues(spec: Mapping[str, Any], today: date) -> list[Issue]:
    """Every semantic rule of a job spec, in field order of the documentation."""
    return [
        *documented_field_issues(spec),
        *date_issues(spec, today),
        *location_issues(spec),
        *status_issues(spec),
        *recurring_issues(spec),
    ]
