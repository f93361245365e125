"""Properties of the time and geometry helpers the drift and adoption logic relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from satellogic_support import poi_spec

from skyform_satellogic.geometry import contains, same_target
from skyform_satellogic.provider import PROVIDER
from skyform_satellogic.temporal import age_text, parse_age, parse_instant, same_instant, utc_text

AGES = st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=3650)).map(
    lambda d: timedelta(days=d.days, seconds=d.seconds)
)
INSTANTS = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5, minutes=-30))]),
).map(lambda d: d.replace(microsecond=0))
LON = st.floats(min_value=-180, max_value=180, allow_nan=False)
LAT = st.floats(min_value=-90, max_value=90, allow_nan=False)


@given(AGES)
def test_expected_age_round_trips_through_the_service_form(age: timedelta) -> None:
    """The echo "N days, HH:MM:SS" parses back to the same period (so no false drift)."""
    assert parse_age(age_text(age)) == age
    assert parse_age(f"{age.days} {age_text(age).split(', ')[1]}") == age  # the %d %H:%M:%S form


@given(INSTANTS)
def test_utc_echo_is_the_same_instant(when: datetime) -> None:
    """An instant written with any offset equals its UTC echo; one second later does not."""
    mine = when.isoformat()
    assert parse_instant(mine) == when
    assert same_instant(mine, utc_text(when))
    assert not same_instant(mine, utc_text(when + timedelta(seconds=1)))


@given(LON, LAT)
def test_point_echo_with_altitude_is_the_same_target(lon: float, lat: float) -> None:
    """The service appends an altitude of 0.0: still the same target."""
    assert same_target({"type": "Point", "coordinates": [lon, lat]}, {"type": "Point", "coordinates": [lon, lat, 0.0]})


@given(st.floats(min_value=1.0, max_value=3.0), st.floats(min_value=47.0, max_value=49.0))
def test_points_inside_a_square_fence_are_contained(lon: float, lat: float) -> None:
    """Every point of the closed square (boundary included) is inside it; shifted out, it is not."""
    fence = {"type": "Polygon", "coordinates": [[[1, 47], [3, 47], [3, 49], [1, 49], [1, 47]]]}
    assert contains(fence, {"type": "Point", "coordinates": [lon, lat]})
    assert not contains(fence, {"type": "Point", "coordinates": [lon + 2.5, lat]})


def test_waiting_for_completion_of_a_recurring_task_is_warned(check_ctx) -> None:  # type: ignore[no-untyped-def]
    """wait_for completed on a recurring task is legal but waits for the whole window: a warning."""
    issues = list(
        PROVIDER.kind("Task").check(poi_spec(expected_age="1 days, 00:00:00", wait_for="completed"), check_ctx)
    )
    assert [(i.path, i.severity) for i in issues] == [(("wait_for",), "warning")]
    assert "completes only when its window ends" in issues[0].message
