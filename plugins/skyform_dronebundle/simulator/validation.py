"""The API's own validation of job and project bodies: the first broken rule's message.

Written apart from skyform's schema and checks on purpose (imperative, in the order a
request handler checks), so that the tests compare two independent statements of the
documented rules. Messages are the vocabulary's (the documented ones verbatim).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from .. import vocabulary as v
from ..dates import calendar_date, months_before

_MISSING = object()


def _text(value: Any, low: int, high: int) -> bool:
    return isinstance(value, str) and low <= len(value) <= high


def _number(value: Any, low: float, high: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


def _integer(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _iso_day(value: Any) -> date | None:
    return calendar_date(value) if isinstance(value, str) else None


def today_utc() -> date:
    """Today's date in UTC (the service's clock)."""
    return datetime.now(UTC).date()


def job_error(job: Mapping[str, Any], body: Mapping[str, Any], job_types: list[str], today: date) -> str | None:
    """The message for the first rule ``job`` (the merged object) breaks; ``body`` is what the
    request sent (rules about the past apply only to values sent now)."""
    get = job.get
    if not _text(get("name"), 1, 100):
        return v.NAME_LENGTH
    if get("type") in (None, ""):
        return v.TYPE_REQUIRED
    if get("type") not in job_types:
        return "type must match one of the job types configured in your workspace: " + ", ".join(job_types)
    if get("job_pattern") not in v.JOB_PATTERNS:
        return v.JOB_PATTERN_ENUM
    if get("start_date") in (None, ""):
        return v.START_DATE_REQUIRED
    start = _iso_day(get("start_date"))
    if start is None:
        return v.START_DATE_ISO
    if "start_date" in body and start < months_before(today, 6):
        return v.START_DATE_TOO_OLD
    if get("status") is not None and get("status") not in v.STATUSES:
        return v.STATUS_ENUM
    if get("priority") is not None and get("priority") not in v.PRIORITIES:
        return v.PRIORITY_ENUM
    if get("description") is not None and not _text(get("description"), 0, 1000):
        return v.DESCRIPTION_LENGTH
    if get("end_date") is not None:
        end = _iso_day(get("end_date"))
        if end is None:
            return v.END_DATE_ISO
        if end < start:
            return v.END_AFTER_START
    if get("latitude") is not None and not _number(get("latitude"), -90, 90):
        return v.LATITUDE_RANGE
    if get("longitude") is not None and not _number(get("longitude"), -180, 180):
        return v.LONGITUDE_RANGE
    if (get("latitude") is None) != (get("longitude") is None):
        return v.LAT_LON_TOGETHER
    if get("inspection_notes") is not None and not _text(get("inspection_notes"), 0, 2000):
        return v.NOTES_LENGTH
    captures = get("capture_types")
    if captures is not None and not (
        isinstance(captures, list)
        and len(captures) <= 20
        and len(set(map(str, captures))) == len(captures)
        and all(c in v.CAPTURE_TYPES for c in captures)
    ):
        return v.CAPTURE_TYPES_RULE
    if get("external_id") is not None and not _text(get("external_id"), 0, 255):
        return v.EXTERNAL_ID_LENGTH
    if get("status") == "other" and get("other_status_reason") is None:
        return v.OTHER_REASON_REQUIRED
    if get("other_status_reason") is not None and not _text(get("other_status_reason"), 1, 200):
        return v.OTHER_REASON_LENGTH
    return _recurring_error(job)


def _recurring_error(job: Mapping[str, Any]) -> str | None:
    get = job.get
    if get("job_pattern") != "recurring":
        for field in v.RECURRING_FIELDS:
            if get(field) is not None:
                return v.RECURRING_ONLY.format(field=field)
        return None
    if get("recurring_frequency") is not None and get("recurring_frequency") not in v.FREQUENCIES:
        return v.FREQUENCY_ENUM
    if get("recurring_interval") is not None:
        if not _integer(get("recurring_interval"), 1, 365):
            return v.INTERVAL_RANGE
        if get("recurring_frequency") == "flexible":
            return v.INTERVAL_NOT_FLEXIBLE
    days = get("selected_days_of_week")
    if days is not None and not (isinstance(days, list) and len(days) <= 7 and all(_integer(d, 0, 6) for d in days)):
        return v.DAYS_RULE
    if get("week_of_month") is not None and get("week_of_month") not in v.WEEKS_OF_MONTH:
        return v.WEEK_OF_MONTH_ENUM
    weeks = get("weeks_of_month")
    if weeks is not None and not (
        isinstance(weeks, list)
        and len(weeks) <= 5
        and len(set(weeks)) == len(weeks)
        and all(w in v.WEEKS_OF_MONTH and not isinstance(w, bool) for w in weeks)
    ):
        return v.WEEKS_OF_MONTH_RULE
    if get("flights_per_occurrence") is not None and not _integer(get("flights_per_occurrence"), 1, 10):
        return v.FLIGHTS_RANGE
    return None


def project_error(project: Mapping[str, Any]) -> str | None:
    """The message for the first rule a (merged) project breaks."""
    get = project.get
    if not _text(get("name"), 1, 100):
        return v.NAME_LENGTH
    if get("description") is not None and not _text(get("description"), 0, 1000):
        return v.DESCRIPTION_LENGTH
    if get("status") is not None and get("status") not in v.STATUSES:
        return v.STATUS_ENUM
    if get("status") == "other" and get("other_status_reason") is None:
        return v.OTHER_REASON_REQUIRED
    if get("other_status_reason") is not None and not _text(get("other_status_reason"), 1, 200):
        return v.OTHER_REASON_LENGTH
    if get("archived", _MISSING) not in (_MISSING, None) and not isinstance(get("archived"), bool):
        return "archived must be a boolean"
    return None
