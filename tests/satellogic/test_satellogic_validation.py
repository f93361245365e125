"""Every documented rule of a satellogic.Task spec, as one table of (spec, message, path).

Each spec goes through the kind's JSON Schema (Draft 2020-12) and its offline check(),
the two things `skyform validate` runs before any request is sent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import jsonschema
import pytest
from satellogic_support import SQUARE, aoi_spec, poi_spec

from skyform.providers import CheckContext
from skyform.spec.values import Unknown
from skyform_satellogic.provider import PROVIDER
from skyform_satellogic.schemas import SETTINGS_SCHEMA

TASK = PROVIDER.kind("Task")
VALIDATOR = jsonschema.Draft202012Validator(TASK.spec_schema)


def problems(spec: dict[str, Any], ctx: CheckContext) -> list[tuple[tuple[Any, ...], str, str]]:
    """(path, message, severity) of every schema error and check issue."""
    found = [(tuple(e.absolute_path), e.message, "error") for e in VALIDATOR.iter_errors(spec)]
    found += [(i.path, i.message, i.severity) for i in TASK.check(spec, ctx)]
    return found


def ring(*points: list[float]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [list(points)]}


def drop(name: str) -> dict[str, Any]:
    spec = poi_spec()
    del spec[name]
    return spec


CASES = [
    # required fields (every documented example carries them; adoption needs them)
    ("task_name required", drop("task_name"), "'task_name' is a required property", ()),
    ("project_name required", drop("project_name"), "'project_name' is a required property", ()),
    ("product required", drop("product"), "'product' is a required property", ()),
    ("target required", drop("target"), "'target' is a required property", ()),
    ("start required", drop("start"), "'start' is a required property", ()),
    ("end required", drop("end"), "'end' is a required property", ()),
    ("unknown field", poi_spec(max_capture=2), "Additional properties are not allowed ('max_capture'", ()),
    ("empty task_name", poi_spec(task_name=""), "should be non-empty", ("task_name",)),
    ("empty project_name", poi_spec(project_name=""), "should be non-empty", ("project_name",)),
    ("task_name type", poi_spec(task_name=5), "5 is not of type 'string'", ("task_name",)),
    # product: an id (>= 1) or a name
    ("product zero", poi_spec(product=0), "0 is less than the minimum of 1", ("product",)),
    ("product empty name", poi_spec(product=""), "'' should be non-empty", ("product",)),
    ("product float", poi_spec(product=16.9), "16.9 is not of type 'integer', 'string'", ("product",)),
    # target: GeoJSON Point (POI) or Polygon (AOI)
    (
        "target type",
        poi_spec(target={"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
        "'LineString' is not one of ['Point', 'Polygon']",
        ("target", "type"),
    ),
    (
        "target extra member",
        poi_spec(target={"type": "Point", "coordinates": [0, 0], "crs": "x"}),
        "Additional properties are not allowed ('crs'",
        ("target",),
    ),
    (
        "point longitude > 180",
        poi_spec(target={"type": "Point", "coordinates": [180.5, 0]}),
        "180.5 is greater than the maximum of 180",
        ("target", "coordinates", 0),
    ),
    (
        "point longitude < -180",
        poi_spec(target={"type": "Point", "coordinates": [-181, 0]}),
        "-181 is less than the minimum of -180",
        ("target", "coordinates", 0),
    ),
    (
        "point latitude > 90",
        poi_spec(target={"type": "Point", "coordinates": [0, 90.1]}),
        "90.1 is greater than the maximum of 90",
        ("target", "coordinates", 1),
    ),
    (
        "point latitude < -90",
        poi_spec(target={"type": "Point", "coordinates": [0, -91]}),
        "-91 is less than the minimum of -90",
        ("target", "coordinates", 1),
    ),
    (
        "point one number",
        poi_spec(target={"type": "Point", "coordinates": [0]}),
        "[0] is too short",
        ("target", "coordinates"),
    ),
    (
        "point four numbers",
        poi_spec(target={"type": "Point", "coordinates": [0, 0, 0, 0]}),
        "is too long",
        ("target", "coordinates"),
    ),
    (
        "point strings",
        poi_spec(target={"type": "Point", "coordinates": ["1", "2"]}),
        "'1' is not of type 'number'",
        ("target", "coordinates", 0),
    ),
    (
        "polygon ring too short",
        aoi_spec(target=ring([0, 0], [1, 0], [0, 0])),
        "is too short",
        ("target", "coordinates", 0),
    ),
    (
        "polygon no rings",
        aoi_spec(target={"type": "Polygon", "coordinates": []}),
        "[] should be non-empty",
        ("target", "coordinates"),
    ),
    (
        "polygon latitude",
        aoi_spec(target=ring([0, 0], [1, 95], [1, 1], [0, 0])),
        "95 is greater than the maximum of 90",
        ("target", "coordinates", 0, 1, 1),
    ),
    (
        "polygon ring not closed",
        aoi_spec(target=ring([0, 0], [1, 0], [1, 1], [0, 1])),
        "ring 0 is not closed: its last position [0, 1] must equal its first [0, 0]",
        ("target", "coordinates", 0),
    ),
    (
        "polygon hole not closed",
        aoi_spec(
            target={
                "type": "Polygon",
                "coordinates": [SQUARE["coordinates"][0], [[2.05, 48.05], [2.1, 48.05], [2.1, 48.1], [2.05, 48.11]]],
            }
        ),
        "ring 1 is not closed",
        ("target", "coordinates", 1),
    ),
    (
        "polygon degenerate",
        aoi_spec(target=ring([0, 0], [1, 1], [1, 1], [0, 0])),
        "fewer than 3 distinct positions",
        ("target", "coordinates", 0),
    ),
    # start / end: ISO 8601 with an offset, end after start, not over
    ("start without offset", poi_spec(start="2030-01-01T00:00:00"), "does not match", ("start",)),
    ("start date only", poi_spec(start="2030-01-01"), "does not match", ("start",)),
    ("end without offset", poi_spec(end="2030-01-02T00:00"), "does not match", ("end",)),
    (
        "start impossible date",
        poi_spec(start="2030-02-30T00:00:00Z"),
        "'2030-02-30T00:00:00Z' is not a valid ISO 8601 date-time with an offset",
        ("start",),
    ),
    (
        "end before start",
        poi_spec(start="2030-01-10T00:00:00+03:00", end="2030-01-01T00:00:00Z"),
        "end 2030-01-01T00:00:00Z must be after start 2030-01-10T00:00:00+03:00",
        ("end",),
    ),
    (
        "end equals start across offsets",
        poi_spec(start="2030-01-01T03:00:00+03:00", end="2030-01-01T00:00:00Z"),
        "must be after start",
        ("end",),
    ),
    (
        "window in the past",
        poi_spec(start="2020-12-23T00:00:00+03:00", end="2021-01-12T00:00:00+03:00"),
        "end 2021-01-12T00:00:00+03:00 is in the past",
        ("end",),
    ),
    # priority / client
    ("priority type", poi_spec(priority="high"), "'high' is not of type 'integer'", ("priority",)),
    ("client empty", poi_spec(client=""), "should be non-empty", ("client",)),
    # captures
    ("max_captures zero", poi_spec(max_captures=0), "0 is less than the minimum of 1", ("max_captures",)),
    (
        "max_simultaneous_captures zero",
        poi_spec(max_simultaneous_captures=0),
        "0 is less than the minimum of 1",
        ("max_simultaneous_captures",),
    ),
    (
        "simultaneous below max_captures",
        poi_spec(max_captures=3, max_simultaneous_captures=2),
        "max_simultaneous_captures 2 must be greater than or equal to max_captures 3",
        ("max_simultaneous_captures",),
    ),
    # expected_age: the documented timedelta form, POI only, positive
    ("expected_age free text", poi_spec(expected_age="weekly"), "does not match", ("expected_age",)),
    ("expected_age iso duration", poi_spec(expected_age="P7D"), "does not match", ("expected_age",)),
    ("expected_age hours 24", poi_spec(expected_age="1 days, 24:00:00"), "does not match", ("expected_age",)),
    ("expected_age zero", poi_spec(expected_age="0 days, 00:00:00"), "must be a positive period", ("expected_age",)),
    (
        "expected_age on AOI",
        aoi_spec(expected_age="7 days, 00:00:00"),
        "expected_age (recurrence) is available for POI tasks only",
        ("expected_age",),
    ),
    ("expected_age integer", poi_spec(expected_age=7), "7 is not of type 'string'", ("expected_age",)),
    # skyform's own
    (
        "wait_for value",
        poi_spec(wait_for="published"),
        "'published' is not one of ['accepted', 'first_capture', 'completed']",
        ("wait_for",),
    ),
]


@pytest.mark.parametrize("spec, fragment, path", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_spec_is_reported_at_its_field(
    spec: dict[str, Any], fragment: str, path: tuple[Any, ...], check_ctx: CheckContext
) -> None:
    """Each rule yields an error containing the expected text, at the expected path."""
    found = [(p, m) for p, m, sev in problems(spec, check_ctx) if sev == "error"]
    assert any(fragment in m and p == path for p, m in found), found


VALID = [
    ("documented POI example", poi_spec()),
    ("offsets and Z", poi_spec(start="2030-12-23T00:00:00+03:00", end="2031-01-12T00:00:00Z")),
    ("fractional seconds", poi_spec(start="2030-12-23T00:00:00.5+03:00", end="2031-01-12T00:00Z")),
    ("product by name", poi_spec(product="POI Tasking 70cm Multispectral")),
    ("point with altitude", poi_spec(target={"type": "Point", "coordinates": [-180, -90, 0.0]})),
    (
        "all optional fields",
        poi_spec(
            priority=14, client="Amusement Corp", max_captures=2, max_simultaneous_captures=3, wait_for="first_capture"
        ),
    ),
    ("recurring, documented example form", poi_spec(expected_age="7 days, 00:00:00")),
    ("recurring, %d %H:%M:%S form", poi_spec(expected_age="7 00:00:00")),
    ("recurring, one day", poi_spec(expected_age="1 day, 12:00:00")),
    (
        "AOI with a hole",
        aoi_spec(
            target={
                "type": "Polygon",
                "coordinates": [SQUARE["coordinates"][0], [[2.05, 48.05], [2.1, 48.05], [2.1, 48.1], [2.05, 48.05]]],
            }
        ),
    ),
    (
        "unknown values are skipped",
        poi_spec(start=Unknown("resources.a.outputs.s"), max_simultaneous_captures=Unknown("var.n")),
    ),
]


@pytest.mark.parametrize("spec", [c[1] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_spec_has_no_errors(spec: dict[str, Any], check_ctx: CheckContext) -> None:
    """Documented forms validate cleanly (schema errors on Unknowns are the engine's business)."""
    issues = [i for i in TASK.check(spec, check_ctx) if i.severity == "error"]
    assert issues == []
    if all(not isinstance(v, Unknown) for v in spec.values()):
        assert list(VALIDATOR.iter_errors(spec)) == []


def test_recurrence_longer_than_window_is_a_warning(check_ctx: CheckContext) -> None:
    """A period longer than the window is legal but recurs at most once: a warning, not an error."""
    spec = poi_spec(expected_age="30 days, 00:00:00")
    (issue,) = TASK.check(spec, check_ctx)
    assert issue.severity == "warning" and "recurs at most once" in issue.message


def test_past_window_is_judged_against_the_check_date() -> None:
    """'In the past' means before CheckContext.today, not the wall clock."""
    spec = poi_spec(start="2020-12-23T00:00:00+03:00", end="2021-01-12T00:00:00+03:00")
    ctx = CheckContext(today=date(2021, 1, 1), mission_dir=__import__("pathlib").Path("."), address="a")
    assert list(TASK.check(spec, ctx)) == []


SETTINGS = jsonschema.Draft202012Validator(SETTINGS_SCHEMA)
SETTINGS_CASES = [
    ("no credentials", {"url": "https://x"}, "is not valid under any of the given schemas"),
    ("id without secret", {"client_id": "a"}, "'client_secret' is a dependency of 'client_id'"),
    ("secret without id", {"client_secret": "a", "token": "t"}, "'client_id' is a dependency of 'client_secret'"),
    ("url scheme", {"token": "t", "url": "api.satellogic.com"}, "does not match '^https?://'"),
    ("unknown setting", {"token": "t", "password": "x"}, "Additional properties are not allowed"),
]


@pytest.mark.parametrize("settings, fragment", [c[1:] for c in SETTINGS_CASES], ids=[c[0] for c in SETTINGS_CASES])
def test_invalid_settings_are_rejected(settings: dict[str, Any], fragment: str) -> None:
    """Settings need a token or a client id + secret pair, and nothing undocumented."""
    assert any(fragment in e.message for e in SETTINGS.iter_errors(settings)), list(SETTINGS.iter_errors(settings))


def test_valid_settings() -> None:
    """A token alone, or client credentials with a contract id, are valid settings."""
    assert not list(SETTINGS.iter_errors({"token": "t"}))
    assert not list(SETTINGS.iter_errors({"client_id": "a", "client_secret": "b", "contract_id": "c"}))


# where the engine words a schema error its own way (unknown fields point at the field itself)
ENGINE_WORDING = {
    "unknown field": ("unknown field 'max_capture' (did you mean 'max_captures'?)", ("max_capture",)),
    "target extra member": ("unknown field 'crs'; allowed: type, coordinates", ("target", "crs")),
}


def test_every_case_is_reported_by_skyform_validate(tmp_path: Any) -> None:
    """The same table through `skyform validate`: one resource per case, all errors at once."""
    import json

    from skyform.testing.runner import cli_available, run_cli

    if not cli_available():
        pytest.skip("the skyform CLI is not available")
    resources = {f"case_{i}": {"type": "satellogic.Task", "spec": spec} for i, (_, spec, _, _) in enumerate(CASES)}
    mission = {"apiVersion": "skyform/v1", "kind": "Mission", "metadata": {"name": "cases"}, "resources": resources}
    (tmp_path / "mission.yaml").write_text(json.dumps(mission, indent=1))
    run = run_cli("validate", tmp_path, providers=[PROVIDER])
    assert run.exit_code == 3, run.output
    lines = run.output.splitlines()
    from skyform.testing.operations import engine_wording

    kind = PROVIDER.kind("Task")
    for i, (name, spec, fragment, path) in enumerate(CASES):
        if name not in ENGINE_WORDING:  # the engine words schema failures for the mission's author
            fragment = engine_wording(kind.spec_schema, spec, fragment, ("resources", f"case_{i}", "spec"))
        fragment, path = ENGINE_WORDING.get(name, (fragment, path))
        where = ".".join([f"resources.case_{i}.spec", *map(str, path)]) + ": "
        assert any(where in line and fragment in line and "[satellogic.Task]" in line for line in lines), (
            f"{name}: no line with {where!r} and {fragment!r}"
        )
