"""Dates as DroneBundle writes them, normalised.

The API mixes three forms: plain dates (``2026-04-15``, the create body), ISO timestamps
(``2026-05-08T00:00:00.000Z``, webhooks) and Unix epoch milliseconds (``created`` and
``updated`` in GET). skyform shows timestamps as ISO 8601 UTC and dates as ``YYYY-MM-DD``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

# Epoch values above this are milliseconds (1e11 s is the year 5138).
_MILLIS_THRESHOLD = 1e11


def parse_iso(text: str) -> datetime | date | None:
    """A date or an aware UTC datetime from an ISO 8601 string; None when it is not one."""
    if not isinstance(text, str) or len(text) < 10:
        return None
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def calendar_date(text: str) -> date | None:
    """The calendar date an ISO date or timestamp names (UTC), or None if it is not valid."""
    parsed = parse_iso(text)
    if isinstance(parsed, datetime):
        return parsed.date()
    return parsed


def timestamp(value: Any) -> str | None:
    """An ISO 8601 UTC timestamp (``...Z``) for epoch milliseconds/seconds or an ISO string."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000.0 if abs(value) >= _MILLIS_THRESHOLD else float(value)
        moment = datetime.fromtimestamp(seconds, tz=UTC)
    else:
        parsed = parse_iso(str(value))
        if parsed is None:
            return str(value)
        moment = parsed if isinstance(parsed, datetime) else datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def day(value: Any) -> str | None:
    """A spec-style date: ``YYYY-MM-DD`` when the value is a date or a UTC midnight, else the
    ISO UTC timestamp (so a spec date compares equal to what the API echoes)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = timestamp(value)
    parsed = parse_iso(str(value))
    if parsed is None:
        return str(value)
    if isinstance(parsed, datetime):
        if (parsed.hour, parsed.minute, parsed.second, parsed.microsecond) == (0, 0, 0, 0):
            return parsed.date().isoformat()
        return timestamp(str(value))
    return parsed.isoformat()


def months_before(today: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (clamped to the month's last day)."""
    index = today.year * 12 + (today.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (today.day, 30, 29, 28):
        try:
            return date(year, month, min(today.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")
