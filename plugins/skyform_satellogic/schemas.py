"""JSON Schemas of the satellogic provider: its settings, and its kinds from the Tasking API's
documented task model.

Field names are the API's own (``task_name``, ``max_simultaneous_captures`` ...), so a
spec reads like the documented request body; ``wait_for`` is skyform's only addition.
Rules a schema cannot state (closed rings, end after start, expected_age only for POI,
max_simultaneous_captures >= max_captures) live in :mod:`.rules`.
"""

from __future__ import annotations

from typing import Any

from .client import DEFAULT_AUDIENCE, DEFAULT_TOKEN_URL, DEFAULT_URL
from .pricing import PRICES_SCHEMA
from .temporal import AGE_PATTERN, INSTANT_PATTERN

WAIT_FOR = ("accepted", "first_capture", "completed")

LONGITUDE = {"type": "number", "minimum": -180, "maximum": 180, "description": "Longitude in degrees (WGS84)."}
LATITUDE = {"type": "number", "minimum": -90, "maximum": 90, "description": "Latitude in degrees (WGS84)."}
POSITION: dict[str, Any] = {
    "type": "array",
    "description": "A GeoJSON position: [longitude, latitude] or [longitude, latitude, altitude].",
    "prefixItems": [LONGITUDE, LATITUDE, {"type": "number", "description": "Altitude (the API echoes 0.0)."}],
    "minItems": 2,
    "maxItems": 3,
}
RING: dict[str, Any] = {
    "type": "array",
    "description": "A closed linear ring: at least 4 positions, the last equal to the first.",
    "items": POSITION,
    "minItems": 4,
}

TARGET: dict[str, Any] = {
    "type": "object",
    "description": "GeoJSON geometry of the target: a Point for POI products, a Polygon for AOI products.",
    "properties": {
        "type": {"enum": ["Point", "Polygon"], "description": "Point (POI task) or Polygon (AOI task)."},
        "coordinates": {"type": "array", "description": "GeoJSON coordinates of the geometry."},
    },
    "required": ["type", "coordinates"],
    "additionalProperties": False,
    "allOf": [
        {
            "if": {"properties": {"type": {"const": "Point"}}, "required": ["type"]},
            "then": {"properties": {"coordinates": POSITION}},
        },
        {
            "if": {"properties": {"type": {"const": "Polygon"}}, "required": ["type"]},
            "then": {
                "properties": {
                    "coordinates": {
                        "type": "array",
                        "minItems": 1,
                        "items": RING,
                        "description": "The outer ring, then any holes.",
                    }
                }
            },
        },
    ],
}

INSTANT = {"type": "string", "pattern": INSTANT_PATTERN}

TASK_SPEC: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "satellogic.Task",
    "description": "A Satellogic tasking order (POST /tasks/): captures of a point (POI) or an area (AOI) "
    "within a time window, once or recurring every expected_age.",
    "type": "object",
    "properties": {
        "task_name": {"type": "string", "minLength": 1, "description": "A free label for the task."},
        "project_name": {
            "type": "string",
            "minLength": 1,
            "description": "The project the task belongs to (created by the service if new).",
        },
        "product": {
            "description": "The product to task: its id (pk from /products/, e.g. 169) or its name, "
            "resolved through /products/ at plan time.",
            # not oneOf: one schema gives the user the message of the branch they meant
            "type": ["integer", "string"],
            "minimum": 1,
            "minLength": 1,
        },
        "target": TARGET,
        "start": {
            **INSTANT,
            "description": "Start of the capture window: ISO 8601 with an offset, e.g. 2026-12-01T00:00:00+00:00.",
        },
        "end": {**INSTANT, "description": "End of the capture window: ISO 8601 with an offset, after start."},
        "priority": {
            "type": "integer",
            "description": "Tasking priority, within the client's range from "
            "/clients/ (smaller = higher); default: the client's "
            "default_priority.",
        },
        "client": {
            "type": "string",
            "minLength": 1,
            "description": "The client to task for; needed only when the account manages several.",
        },
        "max_captures": {
            "type": "integer",
            "minimum": 1,
            "description": "Captures needed to complete the task (per period when recurring); default 1.",
        },
        "max_simultaneous_captures": {
            "type": "integer",
            "minimum": 1,
            "description": "Captures planned at the same time; >= max_captures (default: max_captures).",
        },
        "expected_age": {
            "type": "string",
            "pattern": AGE_PATTERN,
            "description": "Recurrence period of a POI task as a timedelta string, "
            "'7 days, 00:00:00' or '7 00:00:00' (%d %H:%M:%S). Not for AOI.",
        },
        "wait_for": {
            "enum": list(WAIT_FOR),
            "description": "skyform: when the task counts as ready: accepted (received by the "
            "service), first_capture (a capture published) or completed. Default: "
            "completed, or accepted for a recurring task.",
        },
    },
    "required": ["task_name", "project_name", "product", "target", "start", "end"],
    "additionalProperties": False,
}

CAPTURE: dict[str, Any] = {
    "type": "object",
    "description": "A capture planned for the task.",
    "properties": {
        "capture_id": {"type": "string", "description": "Unique identifier of the capture (sceneset_id)."},
        "start": {"type": "string", "description": "When the capture took (or takes) place."},
        "satellite_name": {"type": "string", "description": "The satellite executing the capture."},
        "status": {"type": "string", "description": "queued, processing or published."},
        "fragment_id": {"type": ["string", "null"], "description": "The area fragment (AOI tasks only)."},
    },
}

TASK_OUTPUTS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "task_id": {"type": "integer", "description": "The service's task id."},
        "status": {"type": "string", "description": "The task status (received, completed, canceled...)."},
        "product": {"type": "integer", "description": "The product id the task was created with."},
        "priority": {"type": ["integer", "null"], "description": "The priority the service applied."},
        "client": {"type": ["string", "null"], "description": "The client the task belongs to."},
        "created_time": {"type": "string", "description": "When the service created the task."},
        "captures": {"type": "array", "items": CAPTURE, "description": "Every capture of the task."},
        "capture_count": {"type": "integer", "description": "How many captures the task has."},
        "published_capture_ids": {
            "type": "array",
            "items": {"type": "string"},
            "description": "capture_id of every published capture (deliverable).",
        },
    },
    "additionalProperties": False,
}

PRODUCTS_SPEC: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "satellogic.Products",
    "description": "The products available for tasking (GET /products/), read-only.",
    "type": "object",
    "properties": {
        "name_contains": {
            "type": "string",
            "description": "Keep only products whose name contains this text (case-insensitive).",
        },
    },
    "additionalProperties": False,
}

PRODUCTS_OUTPUTS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "products": {
            "type": "array",
            "description": "Every product: {pk, name}.",
            "items": {"type": "object", "properties": {"pk": {"type": "integer"}, "name": {"type": "string"}}},
        },
        "ids": {"type": "array", "items": {"type": "integer"}, "description": "The product ids."},
        "by_name": {
            "type": "object",
            "additionalProperties": {"type": "integer"},
            "description": "Product id by product name.",
        },
        "count": {"type": "integer", "description": "How many products."},
    },
    "additionalProperties": False,
}


#: the provider settings (``providers.satellogic``): a token, or OAuth client credentials
SETTINGS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "description": "Connection to the Satellogic Tasking API: a token, or OAuth client credentials.",
    "properties": {
        "url": {
            "type": "string",
            "pattern": "^https?://",
            "default": DEFAULT_URL,
            "description": "Base URL of the Tasking API.",
        },
        "token": {
            "type": "string",
            "minLength": 1,
            "description": "An access token, sent as `authorizationToken: Bearer <token>`.",
        },
        "client_id": {"type": "string", "minLength": 1, "description": "OAuth2 client id (client credentials)."},
        "client_secret": {"type": "string", "minLength": 1, "description": "OAuth2 client secret."},
        "token_url": {
            "type": "string",
            "pattern": "^https?://",
            "default": DEFAULT_TOKEN_URL,
            "description": "OAuth2 token endpoint (legacy accounts: https://login.satellogic.com/oauth/token).",
        },
        "audience": {"type": "string", "default": DEFAULT_AUDIENCE, "description": "OAuth2 audience."},
        "contract_id": {
            "type": "string",
            "minLength": 1,
            "description": "Aleph accounts: sent as X-Satellogic-Contract-Id on every call.",
        },
        "poll_interval": {
            "type": "number",
            "exclusiveMinimum": 0,
            "description": "Seconds between status polls of a running task (default: 15, "
            "backing off to 600); the sandbox sets it from its clock.",
        },
        "timeout": {
            "type": "number",
            "exclusiveMinimum": 0,
            "default": 30,
            "description": "Seconds before a request times out.",
        },
        "prices": PRICES_SCHEMA,
    },
    "dependentRequired": {"client_id": ["client_secret"], "client_secret": ["client_id"]},
    "anyOf": [{"required": ["token"]}, {"required": ["client_id", "client_secret"]}],
    "additionalProperties": False,
}

SECRET_SETTINGS = frozenset({"token", "client_secret"})
