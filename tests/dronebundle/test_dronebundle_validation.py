"""Every documented create-job rule: skyform rejects the spec offline, with the documented
message at the field, and the simulator rejects the same body with the same message."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from skyform.spec.values import Unknown
from skyform_dronebundle import vocabulary as v
from skyform_dronebundle.provider import PROVIDER
from skyform_dronebundle.validation import spec_issues

TODAY = datetime.now(UTC).date()
START = (TODAY + timedelta(days=30)).isoformat()
DROP = object()  # remove the field from the base spec

BASE: dict[str, Any] = {
    "project_id": "P",
    "name": "Bridge A12 deck",
    "type": "drone_inspection",
    "job_pattern": "one_time",
    "start_date": START,
}
RECURRING = {"job_pattern": "recurring", "recurring_frequency": "weekly"}


def _ago(months: int) -> str:
    return (TODAY - timedelta(days=31 * months)).isoformat()


# (case id, changes to BASE, expected message, path of the issue, message the API answers
#  (None: same as expected; "": not sent to the API))
CASES: list[tuple[str, dict[str, Any], str, tuple[Any, ...], str | None]] = [
    ("name-empty", {"name": ""}, v.NAME_LENGTH, ("name",), None),
    ("name-101", {"name": "x" * 101}, v.NAME_LENGTH, ("name",), None),
    ("name-missing", {"name": DROP}, v.NAME_LENGTH, (), None),
    ("type-missing", {"type": DROP}, v.TYPE_REQUIRED, (), None),
    ("type-empty", {"type": ""}, v.TYPE_REQUIRED, ("type",), None),
    ("pattern-bad", {"job_pattern": "weekly"}, v.JOB_PATTERN_ENUM, ("job_pattern",), None),
    ("pattern-missing", {"job_pattern": DROP}, v.JOB_PATTERN_ENUM, (), None),
    ("start-missing", {"start_date": DROP}, v.START_DATE_REQUIRED, (), None),
    ("start-not-iso", {"start_date": "15/04/2026"}, v.START_DATE_ISO, ("start_date",), None),
    ("start-no-such-day", {"start_date": "2026-02-30"}, v.START_DATE_ISO, ("start_date",), None),
    ("start-7-months-ago", {"start_date": _ago(7)}, v.START_DATE_TOO_OLD, ("start_date",), None),
    (
        "end-before-start",
        {"end_date": (TODAY + timedelta(days=29)).isoformat()},
        v.END_AFTER_START,
        ("end_date",),
        None,
    ),
    ("end-not-iso", {"end_date": "soon"}, v.END_DATE_ISO, ("end_date",), None),
    ("latitude-95", {"latitude": 95, "longitude": 12.5}, v.LATITUDE_RANGE, ("latitude",), None),
    ("latitude-text", {"latitude": "north", "longitude": 12.5}, v.LATITUDE_RANGE, ("latitude",), None),
    ("longitude-181", {"latitude": 55.6, "longitude": -181}, v.LONGITUDE_RANGE, ("longitude",), None),
    ("latitude-alone", {"latitude": 55.6}, v.LAT_LON_TOGETHER, ("latitude",), None),
    ("longitude-alone", {"longitude": 12.5}, v.LAT_LON_TOGETHER, ("longitude",), None),
    ("other-no-reason", {"status": "other"}, v.OTHER_REASON_REQUIRED, ("status",), None),
    (
        "reason-empty",
        {"status": "other", "other_status_reason": ""},
        v.OTHER_REASON_LENGTH,
        ("other_status_reason",),
        None,
    ),
    (
        "reason-201",
        {"status": "other", "other_status_reason": "r" * 201},
        v.OTHER_REASON_LENGTH,
        ("other_status_reason",),
        None,
    ),
    ("external-id-256", {"external_id": "e" * 256}, v.EXTERNAL_ID_LENGTH, ("external_id",), None),
    ("status-bad", {"status": "done"}, v.STATUS_ENUM, ("status",), None),
    ("priority-bad", {"priority": "urgent"}, v.PRIORITY_ENUM, ("priority",), None),
    ("description-1001", {"description": "d" * 1001}, v.DESCRIPTION_LENGTH, ("description",), None),
    ("notes-2001", {"inspection_notes": "n" * 2001}, v.NOTES_LENGTH, ("inspection_notes",), None),
    (
        "captures-21",
        {"capture_types": list(v.CAPTURE_TYPES) * 2 + ["panorama"] * 3},
        v.CAPTURE_TYPES_RULE,
        ("capture_types",),
        None,
    ),
    (
        "captures-duplicate",
        {"capture_types": ["lidar_scan", "lidar_scan"]},
        v.CAPTURE_TYPES_RULE,
        ("capture_types",),
        None,
    ),
    ("captures-unknown", {"capture_types": ["x_ray"]}, v.CAPTURE_TYPES_RULE, ("capture_types",), None),
    (
        "recurring-on-one-time",
        {"recurring_frequency": "weekly"},
        v.RECURRING_ONLY.format(field="recurring_frequency"),
        ("recurring_frequency",),
        None,
    ),
    (
        "days-on-one-time",
        {"selected_days_of_week": [1]},
        v.RECURRING_ONLY.format(field="selected_days_of_week"),
        ("selected_days_of_week",),
        None,
    ),
    ("frequency-bad", {**RECURRING, "recurring_frequency": "hourly"}, v.FREQUENCY_ENUM, ("recurring_frequency",), None),
    ("interval-0", {**RECURRING, "recurring_interval": 0}, v.INTERVAL_RANGE, ("recurring_interval",), None),
    ("interval-366", {**RECURRING, "recurring_interval": 366}, v.INTERVAL_RANGE, ("recurring_interval",), None),
    (
        "interval-flexible",
        {**RECURRING, "recurring_frequency": "flexible", "recurring_interval": 2},
        v.INTERVAL_NOT_FLEXIBLE,
        ("recurring_interval",),
        None,
    ),
    ("day-7", {**RECURRING, "selected_days_of_week": [7]}, v.DAYS_RULE, ("selected_days_of_week",), None),
    (
        "days-8",
        {**RECURRING, "selected_days_of_week": [0, 1, 2, 3, 4, 5, 6, 0]},
        v.DAYS_RULE,
        ("selected_days_of_week",),
        None,
    ),
    ("week-of-month-5", {**RECURRING, "week_of_month": 5}, v.WEEK_OF_MONTH_ENUM, ("week_of_month",), None),
    ("week-of-month-0", {**RECURRING, "week_of_month": 0}, v.WEEK_OF_MONTH_ENUM, ("week_of_month",), None),
    ("weeks-duplicate", {**RECURRING, "weeks_of_month": [1, 1]}, v.WEEKS_OF_MONTH_RULE, ("weeks_of_month",), None),
    ("weeks-6", {**RECURRING, "weeks_of_month": [1, 2, 3, 4, -1, 2]}, v.WEEKS_OF_MONTH_RULE, ("weeks_of_month",), None),
    ("weeks-bad-value", {**RECURRING, "weeks_of_month": [0]}, v.WEEKS_OF_MONTH_RULE, ("weeks_of_month",), None),
    ("flights-0", {**RECURRING, "flights_per_occurrence": 0}, v.FLIGHTS_RANGE, ("flights_per_occurrence",), None),
    ("flights-11", {**RECURRING, "flights_per_occurrence": 11}, v.FLIGHTS_RANGE, ("flights_per_occurrence",), None),
    ("project-missing", {"project_id": DROP}, "project_id is required", (), ""),
    (
        "unknown-field",
        {"colour": "red"},
        "Additional properties are not allowed ('colour' was unexpected)",
        (),
        "Unknown field: colour",
    ),
]


def _spec(changes: dict[str, Any]) -> dict[str, Any]:
    spec = dict(BASE)
    for key, value in changes.items():
        if value is DROP:
            spec.pop(key, None)
        else:
            spec[key] = value
    return spec


JOB = PROVIDER.kind("Job")


@pytest.mark.parametrize("changes, message, path, api", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_skyform_rejects_with_the_documented_message_at_the_field(
    changes: dict[str, Any], message: str, path: tuple[Any, ...], api: str | None
) -> None:
    """Offline validation (schema + check) reports exactly one issue: this message, this field."""
    issues = spec_issues(JOB, _spec(changes), TODAY)
    assert [(i.path, i.message) for i in issues] == [(path, message)]


@pytest.mark.parametrize(
    "changes, message, path, api", [c[1:] for c in CASES if c[4] != ""], ids=[c[0] for c in CASES if c[4] != ""]
)
def test_simulator_answers_400_with_the_same_message(
    sandbox: Any,
    client: Any,
    project_id: str,
    changes: dict[str, Any],
    message: str,
    path: tuple[Any, ...],
    api: str | None,
) -> None:
    """The simulated API, sent the same body directly, answers 400 {"message": <same>}."""
    body = {k: val for k, val in _spec(changes).items() if k != "project_id"}
    settings = sandbox.settings()
    response = httpx.post(
        f"{settings['url']}/projects/{project_id}/jobs",
        json=body,
        headers={"Authorization": f"Bearer {settings['api_key']}"},
    )
    assert response.status_code == 400
    assert response.json() == {"message": api or message}


def test_every_documented_message_has_a_case() -> None:
    """The table covers each of the eleven messages the create-job page quotes."""
    covered = {c[2] for c in CASES}
    assert [m for m in v.DOCUMENTED_MESSAGES if m not in covered] == []


def test_the_base_spec_and_every_field_together_are_valid() -> None:
    """A spec using every documented field correctly has no issue."""
    full = {
        **BASE,
        "job_pattern": "recurring",
        "status": "other",
        "other_status_reason": "awaiting permit",
        "priority": "high",
        "description": "deck",
        "end_date": (TODAY + timedelta(days=400)).isoformat(),
        "latitude": -90,
        "longitude": 180,
        "inspection_notes": "n" * 2000,
        "capture_types": list(v.CAPTURE_TYPES),
        "external_id": "e" * 255,
        "recurring_frequency": "monthly",
        "recurring_interval": 365,
        "selected_days_of_week": [0, 1, 2, 3, 4, 5, 6],
        "week_of_month": -1,
        "weeks_of_month": [1, 2, 3, 4, -1],
        "flights_per_occurrence": 10,
    }
    assert spec_issues(JOB, full, TODAY) == []
    assert spec_issues(JOB, BASE, TODAY) == []


def test_start_date_six_months_back_is_still_accepted() -> None:
    """The boundary: exactly six calendar months before today is allowed, a day earlier is not."""
    from skyform_dronebundle.dates import months_before

    edge = months_before(TODAY, 6)
    assert spec_issues(JOB, {**BASE, "start_date": edge.isoformat()}, TODAY) == []
    earlier = (edge - timedelta(days=1)).isoformat()
    assert [i.message for i in spec_issues(JOB, {**BASE, "start_date": earlier}, TODAY)] == [v.START_DATE_TOO_OLD]


def test_start_date_rule_is_relative_to_the_check_context_today() -> None:
    """The same date is fine one day and too old another: the rule follows ctx.today."""
    spec = {**BASE, "start_date": "2026-01-10"}
    assert spec_issues(JOB, spec, date(2026, 3, 1)) == []
    assert [i.message for i in spec_issues(JOB, spec, date(2026, 9, 1))] == [v.START_DATE_TOO_OLD]


def test_unknown_values_are_skipped_until_apply() -> None:
    """Values known only after apply (other resources' outputs) raise no issue at validate time."""
    spec = {
        **BASE,
        "project_id": Unknown("resources.site.outputs.id"),
        "start_date": Unknown("var.when"),
        "latitude": Unknown("var.site.lat"),
        "longitude": Unknown("var.site.lon"),
    }
    assert list(JOB.check(spec, _ctx())) == []


def test_iso_timestamps_are_accepted_as_dates() -> None:
    """An ISO timestamp (the form webhooks use) is a valid start_date."""
    assert spec_issues(JOB, {**BASE, "start_date": START + "T00:00:00.000Z"}, TODAY) == []


def _ctx() -> Any:
    from pathlib import Path

    from skyform.providers import CheckContext

    return CheckContext(today=TODAY, mission_dir=Path("."), address="flight")
