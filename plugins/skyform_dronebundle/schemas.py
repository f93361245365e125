"""JSON Schemas of the dronebundle provider: the settings, and a ``dronebundle.Job`` spec from
the create-job documentation.

Field names are the API's, verbatim. Per-field rules (types, enums, lengths, ranges) live
here; each property carries ``errorMessage`` (the convention editors built on
vscode-json-languageservice understand) with the vendor's documented message, so that the
user sees the message the API would answer. Cross-field rules (dates, both-or-neither,
recurring-only fields) are in :mod:`.job_rules`, where they can point at the field.
"""

from __future__ import annotations

from typing import Any

from . import vocabulary as v
from .pricing import PRICES_SCHEMA

# ISO 8601: a calendar date, optionally with a time and an offset (the API takes "ISO date
# strings"; the page's example is a plain date). Calendar validity is checked in job_rules.
ISO_DATE_PATTERN = (
    r"^\d{4}-\d{2}-\d{2}"
    r"(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)

_RECURRING_NOTE = " Only with job_pattern recurring."


def _string(description: str, message: str, **rules: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, "errorMessage": message, **rules}


JOB_PROPERTIES: dict[str, Any] = {
    "project_id": {
        "type": "string",
        "minLength": 1,
        "description": "The unique identifier of the project this job belongs to "
        "(path parameter). Changing it replaces the job.",
    },
    "name": _string("Job name. 1 to 100 characters.", v.NAME_LENGTH, minLength=1, maxLength=100),
    "type": _string(
        "Job type (e.g. drone_inspection, thermal_inspection, 3d_mapping). Must match "
        "one of the job types configured in your workspace.",
        v.TYPE_REQUIRED,
        minLength=1,
    ),
    "job_pattern": {
        "enum": list(v.JOB_PATTERNS),
        "description": "Either one_time or recurring.",
        "errorMessage": v.JOB_PATTERN_ENUM,
    },
    "start_date": _string(
        "Start date in ISO 8601 format (e.g. 2026-04-15). Cannot be more than 6 months in the past.",
        v.START_DATE_ISO,
        pattern=ISO_DATE_PATTERN,
    ),
    "status": {
        "enum": list(v.STATUSES),
        "default": "not_started",
        "errorMessage": v.STATUS_ENUM,
        "description": "Job status (desired state). Use other with other_status_reason "
        "for statuses that don't map to a predefined value.",
    },
    "priority": {
        "enum": list(v.PRIORITIES),
        "default": "medium",
        "errorMessage": v.PRIORITY_ENUM,
        "description": "Priority level.",
    },
    "description": _string("Job description. Max 1000 characters.", v.DESCRIPTION_LENGTH, maxLength=1000),
    "end_date": _string(
        "End date in ISO 8601 format. Must be on or after start_date.", v.END_DATE_ISO, pattern=ISO_DATE_PATTERN
    ),
    "latitude": {
        "type": "number",
        "minimum": -90,
        "maximum": 90,
        "errorMessage": v.LATITUDE_RANGE,
        "description": "Latitude of the job location. Between -90 and 90. Must be provided together with longitude.",
    },
    "longitude": {
        "type": "number",
        "minimum": -180,
        "maximum": 180,
        "errorMessage": v.LONGITUDE_RANGE,
        "description": "Longitude of the job location. Between -180 and 180. Must be provided together with latitude.",
    },
    "inspection_notes": _string("Notes for the inspection. Max 2000 characters.", v.NOTES_LENGTH, maxLength=2000),
    "capture_types": {
        "type": "array",
        "maxItems": 20,
        "uniqueItems": True,
        "items": {"enum": list(v.CAPTURE_TYPES)},
        "errorMessage": v.CAPTURE_TYPES_RULE,
        "description": "Capture types for this job. Max 20 items, no duplicates.",
    },
    "external_id": _string(
        "Your own identifier for this job. Max 255 characters. When omitted, "
        "skyform sets skyform:<mission>:<resource>:<key8> (see the docs).",
        v.EXTERNAL_ID_LENGTH,
        maxLength=255,
    ),
    "other_status_reason": _string(
        "Required when status is other. 1 to 200 characters.", v.OTHER_REASON_LENGTH, minLength=1, maxLength=200
    ),
    "recurring_frequency": {
        "enum": list(v.FREQUENCIES),
        "errorMessage": v.FREQUENCY_ENUM,
        "description": "Recurrence frequency." + _RECURRING_NOTE,
    },
    "recurring_interval": {
        "type": "integer",
        "minimum": 1,
        "maximum": 365,
        "errorMessage": v.INTERVAL_RANGE,
        "description": "Repeat every N periods (e.g. every 2 weeks). Between 1 "
        "and 365. Cannot be used with flexible frequency." + _RECURRING_NOTE,
    },
    "selected_days_of_week": {
        "type": "array",
        "maxItems": 7,
        "items": {"type": "integer", "minimum": 0, "maximum": 6},
        "errorMessage": v.DAYS_RULE,
        "description": "Days of the week: 0 = Sunday, 1 = Monday, ..., 6 = Saturday. Max 7 values." + _RECURRING_NOTE,
    },
    "week_of_month": {
        "enum": list(v.WEEKS_OF_MONTH),
        "errorMessage": v.WEEK_OF_MONTH_ENUM,
        "description": "Which week of the month: 1, 2, 3, 4 or -1 (last week)." + _RECURRING_NOTE,
    },
    "weeks_of_month": {
        "type": "array",
        "maxItems": 5,
        "uniqueItems": True,
        "items": {"enum": list(v.WEEKS_OF_MONTH)},
        "errorMessage": v.WEEKS_OF_MONTH_RULE,
        "description": "Multiple weeks of the month (1, 2, 3, 4, -1). Max 5 values, no duplicates." + _RECURRING_NOTE,
    },
    "flights_per_occurrence": {
        "type": "integer",
        "minimum": 1,
        "maximum": 10,
        "errorMessage": v.FLIGHTS_RANGE,
        "description": "Number of flights per occurrence. Between 1 and 10." + _RECURRING_NOTE,
    },
}

JOB_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "dronebundle.Job",
    "description": "A DroneBundle job (one-time or recurring) inside a project: POST /projects/{project_id}/jobs.",
    "type": "object",
    "properties": JOB_PROPERTIES,
    "required": ["project_id", "name", "type", "job_pattern", "start_date"],
    "additionalProperties": False,
}

#: the documented message for a missing required field (jsonschema's "'x' is a required
#: property" otherwise)
REQUIRED_MESSAGES = {
    "name": v.NAME_LENGTH,
    "type": v.TYPE_REQUIRED,
    "job_pattern": v.JOB_PATTERN_ENUM,
    "start_date": v.START_DATE_REQUIRED,
    "project_id": "project_id is required",
}

JOB_OUTPUTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "The job id (UUIDv7-like)."},
        "project_id": {"type": "string"},
        "status": {"enum": list(v.STATUSES), "description": "The job's status as the API reports it."},
        "external_id": {
            "type": ["string", "null"],
            "description": "The external_id sent (the spec's, or the derived one).",
        },
        "start_date": {"type": ["string", "null"], "description": "YYYY-MM-DD or ISO 8601 UTC."},
        "end_date": {"type": ["string", "null"], "description": "YYYY-MM-DD or ISO 8601 UTC."},
        "created": {"type": ["string", "null"], "description": "ISO 8601 UTC timestamp."},
        "updated": {"type": ["string", "null"], "description": "ISO 8601 UTC timestamp."},
    },
    "required": ["id", "status"],
    "additionalProperties": False,
}


#: the provider settings (``providers.dronebundle``); ``api_key`` is secret: redacted, never stored
SETTINGS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "url": {
            "type": "string",
            "pattern": "^https?://",
            "default": v.DEFAULT_URL,
            "description": "API base URL, including /v1.",
        },
        "api_key": {
            "type": "string",
            "pattern": "^v1_",
            "description": "An API key from the dashboard's API Keys page (Bearer, starts "
            "with v1_; full_access scope to create and update). Use "
            "${{ secrets.DRONEBUNDLE_API_KEY }}.",
        },
        "rate_limit": {
            "type": "integer",
            "minimum": 1,
            "maximum": v.DOCUMENTED_RATE_LIMIT,
            "default": v.DOCUMENTED_RATE_LIMIT,
            "description": "Requests per minute this run may send with the key (the "
            "documented limit is 1,000; lower it when the key is shared).",
        },
        "prices": PRICES_SCHEMA,
    },
    "required": ["api_key"],
    "additionalProperties": False,
}
SECRET_SETTINGS = frozenset({"api_key"})
