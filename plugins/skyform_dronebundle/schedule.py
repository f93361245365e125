"""Occurrence dates of a job, from its pattern and recurring fields.

DroneBundle generates a recurring job's occurrences and regenerates them when the pattern
or a recurring field changes (update-job page). The simulator keeps the next few dates so
tests can see what a recurrence means and that an update regenerated it; the cost estimate
(:mod:`.pricing`) counts every one of its window with the same rules, so the two agree.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any

from .dates import calendar_date

#: how far ahead the simulator generates dates (an estimate goes to the job's end_date)
HORIZON_DAYS = 800


def _dow(day: date) -> int:
    """0 = Sunday ... 6 = Saturday, as the API numbers days."""
    return (day.weekday() + 1) % 7


def _nth_weekday(year: int, month: int, dow: int, week: int) -> date | None:
    days = [
        date(year, month, d)
        for d in range(1, calendar.monthrange(year, month)[1] + 1)
        if _dow(date(year, month, d)) == dow
    ]
    if week == -1:
        return days[-1]
    return days[week - 1] if 1 <= week <= len(days) else None


def _candidates(job: Mapping[str, Any], start: date, horizon: int) -> Iterator[date]:
    frequency = job.get("recurring_frequency") or "weekly"
    interval = int(job.get("recurring_interval") or 1)
    days = sorted(job.get("selected_days_of_week") or [_dow(start)])
    if frequency == "daily":
        for k in range(0, horizon, interval):
            yield start + timedelta(days=k)
    elif frequency == "weekly":
        week0 = start - timedelta(days=_dow(start))
        for w in range(0, horizon // 7 + 2, interval):  # week0 starts up to 6 days early
            for d in days:
                yield week0 + timedelta(days=7 * w + d)
    elif frequency == "monthly":
        weeks = job.get("weeks_of_month") or ([job["week_of_month"]] if job.get("week_of_month") else [])
        for m in range(0, horizon // 28 + 1, interval):
            year, month = divmod(start.year * 12 + start.month - 1 + m, 12)
            month += 1
            if not weeks:
                if start.day <= calendar.monthrange(year, month)[1]:
                    yield date(year, month, start.day)
                continue
            found = [_nth_weekday(year, month, d, w) for w in weeks for d in days]
            yield from sorted(x for x in found if x is not None)
    elif frequency == "yearly":
        for k in range(0, horizon // 365 + 1, interval):
            try:
                yield start.replace(year=start.year + k)
            except ValueError:  # 29 February
                continue


def occurrences(job: Mapping[str, Any], count: int | None = 10) -> list[str]:
    """The first ``count`` occurrence dates (ISO, all of them for None), from start_date up
    to end_date if set (else within ``HORIZON_DAYS``)."""
    start = calendar_date(str(job.get("start_date")))
    if start is None:
        return []
    if job.get("job_pattern") != "recurring":
        return [start.isoformat()]
    if job.get("recurring_frequency") == "flexible":
        return []  # scheduled by hand on the dashboard
    end = calendar_date(str(job["end_date"])) if job.get("end_date") else None
    horizon = (end - start).days + 1 if end is not None else HORIZON_DAYS
    out: list[str] = []
    for day in _candidates(job, start, horizon):
        if day < start:
            continue
        if end is not None and day > end:
            break
        out.append(day.isoformat())
        if count is not None and len(out) >= count:
            break
    return out
