"""The two time notations of the Tasking API: ISO 8601 instants and timedelta strings.

``start``/``end`` are ISO 8601 with an offset (the service echoes them in UTC);
``expected_age`` is a Django duration string as documented: ``"7 days, 00:00:00"`` (the
example) or ``"7 00:00:00"`` (the stated ``%d %H:%M:%S`` format).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

INSTANT_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"
AGE_PATTERN = r"^(\d+ (days?, )?)?([01]?\d|2[0-3]):[0-5]\d:[0-5]\d$"
_AGE = re.compile(r"^(?:(?P<days>\d+) (?:days?, )?)?(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})$")


def parse_instant(text: object) -> datetime | None:
    """An aware datetime from an ISO 8601 string with offset, or None if it is not one."""
    if not isinstance(text, str) or not re.match(INSTANT_PATTERN, text):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def utc_text(value: datetime) -> str:
    """How the service writes instants: UTC with a Z."""
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def same_instant(a: object, b: object) -> bool:
    """True when two ISO strings name the same instant (the API echoes ours in UTC)."""
    pa, pb = parse_instant(a), parse_instant(b)
    return pa is not None and pb is not None and pa == pb


def parse_age(text: object) -> timedelta | None:
    """A timedelta from ``"7 days, 00:00:00"`` or ``"7 00:00:00"``; None if malformed."""
    if not isinstance(text, str):
        return None
    m = _AGE.match(text.strip())
    if not m or int(m["h"]) > 23 or int(m["m"]) > 59 or int(m["s"]) > 59:
        return None
    return timedelta(days=int(m["days"] or 0), hours=int(m["h"]), minutes=int(m["m"]), seconds=int(m["s"]))


def age_text(value: timedelta) -> str:
    """The service's rendering of a duration (the documented example's form)."""
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{value.days} days, {hours:02d}:{minutes:02d}:{seconds:02d}"
