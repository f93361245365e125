"""The engine-owned JSON Schema of a mission file (everything outside resource specs)."""

from __future__ import annotations

from typing import Any

from .budget import BUDGET_SCHEMA
from .policy import POLICY_SCHEMA

API_VERSION = "skyform/v1"
DURATION = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$"
RESOURCE_ID = r"^[A-Za-z_][A-Za-z0-9_-]*$"
TYPE_NAME = r"^[a-z][a-z0-9_]*\.[A-Z][A-Za-z0-9]*$"
#: A worker queue (``lifecycle.queue``, ``settings.queues``): a broker-safe name.
QUEUE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"

LIFECYCLE: dict[str, Any] = {
    "type": "object",
    "description": "How skyform treats this resource over its life.",
    "additionalProperties": False,
    "properties": {
        "prevent_destroy": {"type": "boolean", "description": "Refuse any plan that would delete or replace it."},
        "ignore_changes": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "uniqueItems": True,
            "description": "Top-level spec fields (or dotted paths) whose changes are not acted on.",
        },
        "timeout": {
            "description": "How long a remote job may run before it is cancelled (e.g. 90s, 30m, 6h, 1h30m).",
            "anyOf": [
                {"type": "string", "pattern": DURATION, "description": "a duration such as 90s, 30m, 6h or 1h30m"},
                {"type": "number", "exclusiveMinimum": 0, "maximum": 31536000},
            ],
        },
        "retries": {
            "type": "integer",
            "minimum": 0,
            "maximum": 50,
            "description": "Retries of transient errors (connection, timeout, 429, 5xx). Default 3.",
        },
        "on_failure": {
            "enum": ["stop", "continue"],
            "description": "stop (default): dependents are skipped; continue: dependents run anyway.",
        },
        "max_cost": {
            "type": "number",
            "minimum": 0,
            "maximum": 1e15,
            "description": "Do not submit work whose cost estimate is above this amount.",
        },
        "queue": {
            "type": "string",
            "pattern": QUEUE_NAME,
            "description": "--executor celery: the worker queue this resource's operations go to "
            "(skyform worker --queues NAME); default: settings.queues of its provider, else 'default'.",
        },
    },
}

MISSION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://skyform.dev/schemas/mission.json",
    "title": "skyform mission",
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "resources"],
    "properties": {
        "apiVersion": {"const": API_VERSION, "description": "Always skyform/v1."},
        "kind": {"const": "Mission"},
        "metadata": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {
                "name": {
                    "type": "string",
                    "pattern": r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$",
                    "description": "a mission name is 1-63 lower-case letters, digits, '.', '_' and '-', "
                    "starting and ending with a letter or digit",
                },
                "description": {"type": "string"},
                "labels": {
                    "type": "object",
                    "propertyNames": {"type": "string"},
                    "additionalProperties": {"type": "string"},
                },
            },
        },
        "providers": {
            "type": "object",
            "propertyNames": {"type": "string"},
            "description": "Connection settings per provider name.",
            "additionalProperties": {"type": "object"},
        },
        "variables": {
            "type": "object",
            "propertyNames": {"type": "string"},
            "description": "Values referenced as ${{ var.<name> }}.",
        },
        "resources": {
            "type": "object",
            "propertyNames": {
                "type": "string",
                "pattern": RESOURCE_ID,
                "description": "a resource id is letters, digits, '_' and '-', and starts with a letter or '_'",
            },
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["type", "spec"],
                "properties": {
                    "type": {
                        "type": "string",
                        "pattern": TYPE_NAME,
                        "description": "<provider>.<Kind>, e.g. nodeodm.Task",
                    },
                    "description": {"type": "string"},
                    "spec": {"type": "object"},
                    "depends_on": {
                        "type": "array",
                        "items": {"type": "string", "pattern": RESOURCE_ID},
                        "uniqueItems": True,
                    },
                    "lifecycle": LIFECYCLE,
                },
            },
        },
        "budget": BUDGET_SCHEMA,
        "policy": POLICY_SCHEMA,
        "outputs": {
            "type": "object",
            "propertyNames": {"type": "string"},
            "description": "Mission outputs, usually ${{ resources... }} expressions.",
        },
        "settings": {
            "type": "object",
            "additionalProperties": False,
            "description": "Mission-wide options.",
            "properties": {
                "queues": {
                    "type": "object",
                    "propertyNames": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
                    "additionalProperties": {"type": "string", "pattern": QUEUE_NAME},
                    "description": "--executor celery: the worker queue of each provider's operations, "
                    "e.g. {local: site-a12} (a resource's lifecycle.queue wins).",
                },
                "catalog": {
                    "type": "string",
                    "minLength": 1,
                    "description": "Write the mission's STAC catalog here after every apply: a directory "
                    "relative to the mission, or an fsspec URL (s3://bucket/key).",
                },
                "artifacts": {
                    "description": "The content-addressed artifact store shared by missions and workers: a "
                    "directory relative to the mission, file://, s3://bucket/prefix or any fsspec URL, or "
                    "{url, endpoint} for an S3-compatible server (default: SKYFORM_ARTIFACTS, else the "
                    "mission's .skyform/store). Credentials come from the environment, never from here.",
                    "anyOf": [
                        {"type": "string", "minLength": 1},
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["url"],
                            "properties": {
                                "url": {"type": "string", "minLength": 1},
                                "endpoint": {
                                    "type": "string",
                                    "pattern": "^https?://",
                                    "description": "the S3 API's address, e.g. https://minio.example:9000",
                                },
                            },
                        },
                    ],
                },
            },
        },
    },
}


def parse_duration(value: Any) -> float:
    """Seconds from ``90s``, ``30m``, ``6h``, ``1h30m``, ``2d`` or a number of seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    import re

    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    total = 0.0
    for number, _frac, unit in re.findall(r"([0-9]+(\.[0-9]+)?)(ms|s|m|h|d)", str(value)):
        total += float(number) * units[unit]
    return total
