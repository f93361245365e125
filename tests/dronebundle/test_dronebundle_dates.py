"""Date normalisation: the API's plain dates, ISO timestamps and epoch milliseconds all come
out as ISO 8601 UTC (timestamps) or YYYY-MM-DD (dates)."""

from __future__ import annotations

from datetime import date

import pytest

from skyform_dronebundle.dates import day, months_before, timestamp
from skyform_dronebundle.identity import derived_external_id


@pytest.mark.parametrize(
    "value, expected",
    [
        (1778198400000, "2026-05-08T00:00:00.000Z"),  # GET created/updated: epoch ms
        (1778198400, "2026-05-08T00:00:00.000Z"),  # epoch seconds
        ("2026-05-08T00:00:00.000Z", "2026-05-08T00:00:00.000Z"),  # webhook start_date
        ("2026-05-08T02:30:00+02:00", "2026-05-08T00:30:00.000Z"),  # an offset becomes UTC
        ("2026-05-08", "2026-05-08T00:00:00.000Z"),  # a plain date
        (None, None),
    ],
)
def test_timestamps_become_iso_utc(value, expected) -> None:
    """created/updated in any of the API's forms: ISO 8601 UTC with milliseconds and Z."""
    assert timestamp(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-05-08", "2026-05-08"),
        ("2026-05-08T00:00:00.000Z", "2026-05-08"),  # midnight UTC is the date
        (1778198400000, "2026-05-08"),
        ("2026-05-08T09:15:00Z", "2026-05-08T09:15:00.000Z"),  # a real time stays a timestamp
    ],
)
def test_dates_compare_in_the_spec_form(value, expected) -> None:
    """start_date/end_date as echoed by the API compare equal to the spec's YYYY-MM-DD."""
    assert day(value) == expected


@pytest.mark.parametrize(
    "today, expected",
    [
        (date(2026, 11, 23), date(2026, 5, 23)),
        (date(2026, 8, 31), date(2026, 2, 28)),  # clamped to February's last day
        (date(2026, 3, 15), date(2025, 9, 15)),  # across a year
    ],
)
def test_six_months_before(today, expected) -> None:
    """The start_date limit is six calendar months, clamped at month ends."""
    assert months_before(today, 6) == expected


def test_derived_external_id_fits_the_documented_255_characters() -> None:
    """A long mission or address is shortened; the key suffix that tells attempts apart stays."""
    ext = derived_external_id("m" * 200, "resources." + "a" * 200, "0123abcd-ef01-4000-8000-000000000000")
    assert len(ext) == 255 and ext.endswith(":0123abcd") and ext.startswith("skyform:mmm")
    assert derived_external_id("bridge", "flight", "0123abcd-ef01") == "skyform:bridge:flight:0123abcd"
