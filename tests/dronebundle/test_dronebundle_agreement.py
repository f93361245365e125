"""skyform's offline rules and the simulated API's validation are written independently; on
any job body they must agree on whether it is valid, and on the message when one rule is
broken. Property-based: a valid body with its fields at or inside every documented limit,
then zero, one or two mutations to just past a limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skyform_dronebundle import vocabulary as v
from skyform_dronebundle.dates import calendar_date, months_before
from skyform_dronebundle.provider import PROVIDER
from skyform_dronebundle.simulator.server import JOB_TYPES
from skyform_dronebundle.simulator.validation import job_error
from skyform_dronebundle.validation import spec_issues

TODAY = datetime.now(UTC).date()
EARLIEST = months_before(TODAY, 6)
JOB = PROVIDER.kind("Job")


def _x(n: int) -> str:
    return "x" * n


@st.composite
def valid_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A job body the documentation accepts, with values at and inside the limits."""
    start = draw(st.sampled_from([EARLIEST, TODAY, TODAY + timedelta(days=400)]))
    body: dict[str, Any] = {
        "name": _x(draw(st.sampled_from([1, 50, 100]))),
        "type": draw(st.sampled_from(JOB_TYPES)),
        "job_pattern": draw(st.sampled_from(v.JOB_PATTERNS)),
        "start_date": start.isoformat(),
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "status": st.sampled_from([s for s in v.STATUSES if s != "other"]),
        "priority": st.sampled_from(v.PRIORITIES),
        "description": st.sampled_from(["", _x(1000)]),
        "end_date": st.sampled_from([start.isoformat(), (start + timedelta(days=9)).isoformat()]),
        "inspection_notes": st.sampled_from(["", _x(2000)]),
        "capture_types": st.lists(st.sampled_from(v.CAPTURE_TYPES), unique=True),
        "external_id": st.sampled_from(["", _x(255)]),
    }
    for field in draw(st.sets(st.sampled_from(sorted(optional)))):
        body[field] = draw(optional[field])
    if draw(st.booleans()):
        body["latitude"] = draw(st.sampled_from([-90, 0, 55.6761, 90]))
        body["longitude"] = draw(st.sampled_from([-180, 12.5683, 180]))
    if draw(st.booleans()):
        body.update(status="other", other_status_reason=_x(draw(st.sampled_from([1, 200]))))
    if body["job_pattern"] == "recurring":
        recurring: dict[str, st.SearchStrategy[Any]] = {
            "recurring_frequency": st.sampled_from([f for f in v.FREQUENCIES if f != "flexible"]),
            "recurring_interval": st.sampled_from([1, 365]),
            "selected_days_of_week": st.lists(st.integers(0, 6), max_size=7),
            "week_of_month": st.sampled_from(v.WEEKS_OF_MONTH),
            "weeks_of_month": st.lists(st.sampled_from(v.WEEKS_OF_MONTH), unique=True),
            "flights_per_occurrence": st.sampled_from([1, 10]),
        }
        for field in draw(st.sets(st.sampled_from(sorted(recurring)))):
            body[field] = draw(recurring[field])
    return body


def _set(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda body: body.update(values)


def _drop(field: str) -> Callable[[dict[str, Any]], None]:
    return lambda body: body.pop(field, None)


MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "name-empty": _set(name=""),
    "name-101": _set(name=_x(101)),
    "no-name": _drop("name"),
    "no-type": _drop("type"),
    "pattern": _set(job_pattern="weekly"),
    "no-start": _drop("start_date"),
    "start-text": _set(start_date="soon"),
    "start-feb-30": _set(start_date="2027-02-30"),
    "start-old": _set(start_date=(EARLIEST - timedelta(days=1)).isoformat()),
    "status": _set(status="done"),
    "priority": _set(priority="urgent"),
    "description": _set(description=_x(1001)),
    "notes": _set(inspection_notes=_x(2001)),
    "end-before": lambda b: (
        b.update(end_date=(calendar_date(b["start_date"]) - timedelta(days=1)).isoformat())
        if calendar_date(str(b.get("start_date")))
        else None
    ),
    "end-text": _set(end_date="later"),
    "lat-out": _set(latitude=90.5, longitude=0),
    "lon-out": _set(latitude=0, longitude=-180.5),
    "lat-alone": lambda b: (b.update(latitude=10), b.pop("longitude", None)),
    "captures-dup": _set(capture_types=["panorama", "panorama"]),
    "captures-bad": _set(capture_types=["x_ray"]),
    "external-id": _set(external_id=_x(256)),
    "other-no-reason": lambda b: (b.update(status="other"), b.pop("other_status_reason", None)),
    "reason-long": _set(status="other", other_status_reason=_x(201)),
    "recurring-on-one-time": _set(job_pattern="one_time", flights_per_occurrence=2),
    "frequency": _set(job_pattern="recurring", recurring_frequency="hourly"),
    "interval-0": _set(job_pattern="recurring", recurring_interval=0),
    "interval-366": _set(job_pattern="recurring", recurring_interval=366),
    "interval-flexible": _set(job_pattern="recurring", recurring_frequency="flexible", recurring_interval=3),
    "day-7": _set(job_pattern="recurring", selected_days_of_week=[7]),
    "days-8": _set(job_pattern="recurring", selected_days_of_week=[0, 1, 2, 3, 4, 5, 6, 1]),
    "week-5": _set(job_pattern="recurring", week_of_month=5),
    "weeks-dup": _set(job_pattern="recurring", weeks_of_month=[3, 3]),
    "flights-11": _set(job_pattern="recurring", flights_per_occurrence=11),
}


def _verdicts(body: dict[str, Any]) -> tuple[list[Any], str | None]:
    issues = spec_issues(JOB, {"project_id": "P", **body}, TODAY)
    merged = dict.fromkeys(v.JOB_FIELDS) | dict(v.JOB_DEFAULTS) | body
    return issues, job_error(merged, body, JOB_TYPES, TODAY)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_bodies())
def test_valid_bodies_pass_both(body: dict[str, Any]) -> None:
    """Every body inside the documented limits is valid for skyform and for the API."""
    issues, api = _verdicts(body)
    assert issues == [] and api is None, (issues, api)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_bodies(), st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=2, unique=True))
def test_broken_bodies_fail_both_with_the_same_message(body: dict[str, Any], mutations: list[str]) -> None:
    """Past any limit both reject; with a single problem skyform's message is the API's."""
    for name in mutations:
        MUTATIONS[name](body)
    issues, api = _verdicts(body)
    assert issues and api is not None, (mutations, issues, api)
    if len(issues) == 1:
        assert issues[0].message == api, (mutations, issues, api)
