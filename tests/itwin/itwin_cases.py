"""The itwin validation cases as data: (change to a valid spec, message the user sees, path).

Used by the kind-level table (``test_itwin_validation``) and the engine-level one
(``test_itwin_validate_engine``), so both judge the same rules.
"""

from __future__ import annotations

import copy
from typing import Any

WS = "6881117d-9fd2-4900-870b-9b721dc90f25"


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
    (
        ("settings", "outputs"),
        ["OBJ", "GLTF"],
        "'GLTF' is not one of ['CCOrientations', '3MX'",
        ("settings", "outputs", 1),
    ),
    (("settings", "engines"), 3, "Additional properties are not allowed ('engines' was unexpected)", ("settings",)),
    (
        ("settings", "cacheSettings"),
        {"createCache": "yes"},
        "'yes' is not of type 'boolean'",
        ("settings", "cacheSettings", "createCache"),
    ),
    (
        ("settings", "cacheSettings"),
        {"useCache": True},
        "True is not of type 'string'",
        ("settings", "cacheSettings", "useCache"),
    ),
    (
        ("settings", "cacheSettings"),
        {"keep": True},
        "Additional properties are not allowed ('keep' was unexpected)",
        ("settings", "cacheSettings"),
    ),
    (
        ("costEstimationParameters", "gigaPixels"),
        "2",
        "'2' is not of type 'number'",
        ("costEstimationParameters", "gigaPixels"),
    ),
    (
        ("costEstimationParameters", "megaPoints"),
        None,
        "None is not of type 'number'",
        ("costEstimationParameters", "megaPoints"),
    ),
    (
        ("costEstimationParameters", "meshQuality"),
        "Ultra",
        "'Ultra' is not one of ['Draft', 'Medium', 'Extra']",
        ("costEstimationParameters", "meshQuality"),
    ),
    (
        ("costEstimationParameters", "currency"),
        "USD",
        "Additional properties are not allowed ('currency' was unexpected)",
        ("costEstimationParameters",),
    ),
]


# (path, value, message fragment, issue path, severity)
JOB_CHECK_CASES = [
    (("name",), "  ", "must not be empty", ("name",), "error"),
    (("settings", "outputs"), ["OBJ", "3MX", "OBJ"], "'OBJ' is listed twice", ("settings", "outputs", 2), "error"),
    (("inputs",), [{"id": "a"}, {"id": "a"}], "reality data 'a' is an input twice", ("inputs", 1, "id"), "error"),
    (
        ("costEstimationParameters", "gigaPixels"),
        -2,
        "-2 is negative",
        ("costEstimationParameters", "gigaPixels"),
        "error",
    ),
    (
        ("costEstimationParameters", "megaPoints"),
        -0.5,
        "-0.5 is negative",
        ("costEstimationParameters", "megaPoints"),
        "error",
    ),
    (
        ("costEstimationParameters",),
        {"meshQuality": "Extra"},
        "gives neither gigaPixels nor megaPoints",
        ("costEstimationParameters",),
        "warning",
    ),
]


WORKSPACE_CASES = [
    ({}, "'name' is a required property", ()),
    ({"name": ""}, "'' should be non-empty", ("name",)),
    ({"name": "a", "iTwinId": 3}, "3 is not of type 'string'", ("iTwinId",)),
    ({"name": "a", "region": "eu"}, "Additional properties are not allowed ('region' was unexpected)", ()),
    ({"name": "a", "contextCaptureVersion": 23}, "23 is not of type 'string'", ("contextCaptureVersion",)),
]


SETTINGS_OK = [
    {"token": "abcd"},
    {"client_id": "app", "client_secret": "s3cret"},
    {
        "url": "https://api.bentley.com/contextcapture",
        "client_id": "a",
        "client_secret": "b",
        "token_url": "https://ims.bentley.com/connect/token",
        "scope": "itwin-platform",
        "budget": 100,
        "poll_backoff": [15, 30, 60, 120],
    },
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
