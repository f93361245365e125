"""Every documented schema rule of itwin.Job / itwin.Workspace / the settings, as a table of cases.

Each case: a change to a valid spec, the message fragment the user sees, and the spec path
it points at. Schema rules are checked with Draft 2020-12 (as `skyform validate` does),
semantic rules with ``kind.check``.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from itwin_support import PROVIDER, job_spec
from jsonschema import Draft202012Validator

from skyform.provider import CheckContext
from skyform.values import Unknown

WS = "6881117d-9fd2-4900-870b-9b721dc90f25"
JOB = PROVIDER.kind("Job")
WORKSPACE = PROVIDER.kind("Workspace")
JOB_VALIDATOR = Draft202012Validator(JOB.spec_schema)
CHECK_CTX = CheckContext(today=date(2026, 11, 23), mission_dir=Path("."), address="resources.job")


def _set(spec: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    node = spec
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return spec


_DELETE = object()

# (path to change, new value, message fragment, error path)
JOB_SCHEMA_CASES = [
    (("type",), _DELETE, "'type' is a required property", ()),
    (("name",), _DELETE, "'name' is a required property", ()),
    (("workspaceId",), _DELETE, "'workspaceId' is a required property", ()),
    (("inputs",), _DELETE, "'inputs' is a required property", ()),
    (("settings",), _DELETE, "'settings' is a required property", ()),
    (("priority",), "high", "Additional properties are not allowed ('priority' was unexpected)", ()),
    (("type",), "Production", "'Production' is not one of ['Full', 'Calibration', 'Reconstruction']", ("type",)),
    (("name",), 42, "42 is not of type 'string'", ("name",)),
    (("workspaceId",), 7, "7 is not of type 'string'", ("workspaceId",)),
    (("inputs",), "58e0c0ca", "'58e0c0ca' is not of type 'array'", ("inputs",)),
    (("inputs", 0), "58e0c0ca", "'58e0c0ca' is not of type 'object'", ("inputs", 0)),
    (("inputs", 0, "id"), _DELETE, "'id' is a required property", ("inputs", 0)),
    (("inputs", 0, "id"), 5, "5 is not of type 'string'", ("inputs", 0, "id")),
    (("inputs", 0, "description"), ["x"], "['x'] is not of type 'string'", ("inputs", 0, "description")),
    (("inputs", 0, "kind"), "photos", "Additional properties are not allowed ('kind' was unexpected)", ("inputs", 0)),
    (("settings", "quality"), _DELETE, "'quality' is a required property", ("settings",)),
    (("settings", "outputs"), _DELETE, "'outputs' is a required property", ("settings",)),
    (("settings", "quality"), "High", "'High' is not one of ['Draft', 'Medium', 'Extra']", ("settings", "quality")),
    (("settings", "processingEngines"), 2.5, "2.5 is not of type 'integer'", ("settings", "processingEngines")),
    (("settings", "processingEngines"), -1, "-1 is less than the minimum of 0", ("settings", "processingEngines")),
    (("settings", "outputs"), "OBJ", "'OBJ' is not of type 'array'", ("settings", "outputs")),
    (("settings", "outputs"), ["OBJ", "GLTF"], "'GLTF' is not one of ['CCOrientations', '3MX'", ("settings", "outputs", 1)),
    (("settings", "engines"), 3, "Additional properties are not allowed ('engines' was unexpected)", ("settings",)),
    (("settings", "cacheSettings"), {"createCache": "yes"}, "'yes' is not of type 'boolean'",
     ("settings", "cacheSettings", "createCache")),
    (("settings", "cacheSettings"), {"useCache": True}, "True is not of type 'string'",
     ("settings", "cacheSettings", "useCache")),
    (("settings", "cacheSettings"), {"keep": True}, "Additional properties are not allowed ('keep' was unexpected)",
     ("settings", "cacheSettings")),
    (("costEstimationParameters", "gigaPixels"), "2", "'2' is not of type 'number'",
     ("costEstimationParameters", "gigaPixels")),
    (("costEstimationParameters", "megaPoints"), None, "None is not of type 'number'",
     ("costEstimationParameters", "megaPoints")),
    (("costEstimationParameters", "meshQuality"), "Ultra", "'Ultra' is not one of ['Draft', 'Medium', 'Extra']",
     ("costEstimationParameters", "meshQuality")),
    (("costEstimationParameters", "currency"), "USD",
     "Additional properties are not allowed ('currency' was unexpected)", ("costEstimationParameters",)),
]


def test_the_valid_spec_is_valid():
    """The base case passes both the schema and the semantic checks (so each case below isolates one rule)."""
    assert list(JOB_VALIDATOR.iter_errors(job_spec(WS))) == []
    assert list(JOB.check(job_spec(WS), CHECK_CTX)) == []


@pytest.mark.parametrize("path,value,message,where", JOB_SCHEMA_CASES,
                         ids=[f"{'.'.join(map(str, c[0]))}={'<deleted>' if c[1] is _DELETE else c[1]!r}"
                              for c in JOB_SCHEMA_CASES])
def test_job_schema_rule(path, value, message, where):
    """Each documented rule of the Job Creation model rejects a violating spec at the right path."""
    errors = list(JOB_VALIDATOR.iter_errors(_set(job_spec(WS), path, value)))
    found = [(e.message, tuple(e.absolute_path)) for e in errors]
    assert any(message in m and p == where for m, p in found), found


def test_every_documented_enum_value_is_accepted():
    """All 17 output formats, 3 qualities and 3 job types pass."""
    from skyform_itwin.schemas import FORMATS, JOB_TYPES, QUALITIES

    for fmt in FORMATS:
        assert not list(JOB_VALIDATOR.iter_errors(_set(job_spec(WS), ("settings", "outputs"), [fmt]))), fmt
    for quality in QUALITIES:
        assert not list(JOB_VALIDATOR.iter_errors(_set(job_spec(WS), ("settings", "quality"), quality)))
    for job_type in JOB_TYPES:
        assert not list(JOB_VALIDATOR.iter_errors(_set(job_spec(WS), ("type",), job_type)))
    assert len(FORMATS) == 17


# (path, value, message fragment, issue path, severity)
JOB_CHECK_CASES = [
    (("name",), "  ", "must not be empty", ("name",), "error"),
    (("settings", "outputs"), ["OBJ", "3MX", "OBJ"], "'OBJ' is listed twice", ("settings", "outputs", 2), "error"),
    (("inputs",), [{"id": "a"}, {"id": "a"}], "reality data 'a' is an input twice", ("inputs", 1, "id"), "error"),
    (("costEstimationParameters", "gigaPixels"), -2, "-2 is negative", ("costEstimationParameters", "gigaPixels"),
     "error"),
    (("costEstimationParameters", "megaPoints"), -0.5, "-0.5 is negative", ("costEstimationParameters", "megaPoints"),
     "error"),
    (("costEstimationParameters",), {"meshQuality": "Extra"}, "gives neither gigaPixels nor megaPoints",
     ("costEstimationParameters",), "warning"),
]


@pytest.mark.parametrize("path,value,message,where,severity", JOB_CHECK_CASES,
                         ids=[".".join(map(str, c[0])) + ":" + c[2][:20] for c in JOB_CHECK_CASES])
def test_job_semantic_rule(path, value, message, where, severity):
    """Rules the schema cannot state come from JobKind.check, pointing at the field."""
    issues = list(JOB.check(_set(job_spec(WS), path, value), CHECK_CTX))
    assert [(i.path, i.severity) for i in issues if message in i.message] == [(where, severity)], issues


def test_check_skips_unknown_values():
    """Values known only after apply (a workspace's id, an input from another resource) are not judged."""
    spec = job_spec(Unknown("resources.ws.outputs.id"))
    spec["inputs"] = [{"id": Unknown("resources.a.outputs.id")}, {"id": Unknown("resources.a.outputs.id")}]
    spec["settings"]["outputs"] = [Unknown("var.format"), Unknown("var.format")]
    assert list(JOB.check(spec, CHECK_CTX)) == []


WORKSPACE_CASES = [
    ({}, "'name' is a required property", ()),
    ({"name": ""}, "'' should be non-empty", ("name",)),
    ({"name": "a", "iTwinId": 3}, "3 is not of type 'string'", ("iTwinId",)),
    ({"name": "a", "region": "eu"}, "Additional properties are not allowed ('region' was unexpected)", ()),
    ({"name": "a", "contextCaptureVersion": 23}, "23 is not of type 'string'", ("contextCaptureVersion",)),
]


@pytest.mark.parametrize("spec,message,where", WORKSPACE_CASES)
def test_workspace_schema_rule(spec, message, where):
    errors = [(e.message, tuple(e.absolute_path)) for e in Draft202012Validator(WORKSPACE.spec_schema).iter_errors(spec)]
    assert any(message in m and p == where for m, p in errors), errors


SETTINGS_OK = [
    {"token": "abcd"},
    {"client_id": "app", "client_secret": "s3cret"},
    {"url": "https://api.bentley.com/contextcapture", "client_id": "a", "client_secret": "b",
     "token_url": "https://ims.bentley.com/connect/token", "scope": "itwin-platform", "budget": 100,
     "poll_backoff": [15, 30, 60, 120]},
]
SETTINGS_BAD = [
    ({}, "is not valid under any of the given schemas"),
    ({"token": "abcd", "client_id": "a", "client_secret": "b"}, "is not valid under any of the given schemas"),
    ({"client_id": "a"}, "'client_secret' is a dependency of 'client_id'"),
    ({"token": "abcd", "url": "api.bentley.com"}, "'api.bentley.com' does not match '^https?://'"),
    ({"token": "abcd", "budget": -1}, "-1 is less than the minimum of 0"),
    ({"token": "abcd", "poll_backoff": []}, "[] should be non-empty"),
    ({"token": "abcd", "password": "x"}, "Additional properties are not allowed ('password' was unexpected)"),
]


@pytest.mark.parametrize("settings", SETTINGS_OK)
def test_settings_accepted(settings):
    assert list(Draft202012Validator(PROVIDER.settings_schema).iter_errors(settings)) == []


@pytest.mark.parametrize("settings,message", SETTINGS_BAD)
def test_settings_rejected(settings, message):
    """Provider settings: a token XOR client credentials, https URLs, a non-negative budget."""
    errors = [e.message for e in Draft202012Validator(PROVIDER.settings_schema).iter_errors(settings)]
    assert any(message in m for m in errors), errors
