"""The create-job rules a schema cannot state: dates relative to today, cross-field rules.

Each rule yields an :class:`~skyform.errors.Issue` at the field it concerns, with the
vendor's documented message where the page quotes one. Values not known until apply
(``Unknown``) are skipped; the engine checks again once they are resolved.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Iterator, Mapping

from skyform.errors import Issue
from skyform.values import is_known

from . import vocabulary as v
from .dates import calendar_date, months_before
from .job_schema import ISO_DATE_PATTERN

_ISO = re.compile(ISO_DATE_PATTERN)


def _known(spec: Mapping[str, Any], field: str) -> Any:
    value = spec.get(field)
    return value if is_known(value) else None


def _date(spec: Mapping[str, Any], field: str, message: str, issues: list[Issue]) -> date | None:
    """The field's calendar date; an issue when it has ISO shape but names no real day
    (a wrong shape is the schema's to report, once)."""
    value = _known(spec, field)
    if not isinstance(value, str) or not _ISO.match(value):
        return None
    parsed = calendar_date(value)
    if parsed is None:
        issues.append(Issue((field,), message, hint=f"{value!r} is not a calendar date; "
                                                    "write YYYY-MM-DD, e.g. 2026-04-15"))
    return parsed


def date_issues(spec: Mapping[str, Any], today: date) -> list[Issue]:
    """start_date valid and at most 6 months old; end_date valid and not before start_date."""
    issues: list[Issue] = []
    start = _date(spec, "start_date", v.START_DATE_ISO, issues)
    end = _date(spec, "end_date", v.END_DATE_ISO, issues)
    earliest = months_before(today, 6)
    if start is not None and start < earliest:
        issues.append(Issue(("start_date",), v.START_DATE_TOO_OLD,
                            hint=f"the earliest start_date accepted today is {earliest.isoformat()}"))
    if start is not None and end is not None and end < start:
        issues.append(Issue(("end_date",), v.END_AFTER_START,
                            hint=f"end_date {end.isoformat()} is before start_date {start.isoformat()}"))
    return issues


def location_issues(spec: Mapping[str, Any]) -> Iterator[Issue]:
    """latitude and longitude come together or not at all."""
    has_lat, has_lon = spec.get("latitude") is not None, spec.get("longitude") is not None
    if has_lat != has_lon:
        present, missing = ("latitude", "longitude") if has_lat else ("longitude", "latitude")
        yield Issue((present,), v.LAT_LON_TOGETHER, hint=f"add {missing}, or remove {present}")


def status_issues(spec: Mapping[str, Any]) -> Iterator[Issue]:
    """status other needs other_status_reason."""
    if _known(spec, "status") == "other" and spec.get("other_status_reason") is None:
        yield Issue(("status",), v.OTHER_REASON_REQUIRED,
                    hint="add other_status_reason (1 to 200 characters) saying what the status is")


def recurring_issues(spec: Mapping[str, Any]) -> Iterator[Issue]:
    """Recurring fields only with job_pattern recurring; no interval with flexible frequency."""
    pattern = spec.get("job_pattern")
    if is_known(pattern) and pattern != "recurring":
        for field in v.RECURRING_FIELDS:
            if spec.get(field) is not None:
                yield Issue((field,), v.RECURRING_ONLY.format(field=field),
                            hint=f"set job_pattern: recurring, or remove {field}")
    if _known(spec, "recurring_frequency") == "flexible" and spec.get("recurring_interval") is not None:
        yield Issue(("recurring_interval",), v.INTERVAL_NOT_FLEXIBLE,
                    hint="remove recurring_interval, or choose daily, weekly, monthly or yearly")


def job_issues(spec: Mapping[str, Any], today: date) -> list[Issue]:
    """Every semantic rule of a job spec, in field order of the documentation."""
    return [*date_issues(spec, today), *location_issues(spec), *status_issues(spec),
            *recurring_issues(spec)]
