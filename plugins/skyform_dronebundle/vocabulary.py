"""The DroneBundle data model's documented vocabulary: enums, limits and error messages.

One place for what the vendor documents, shared by the spec schema, the semantic checks,
the provider and the simulator, so that a value or a message is never spelled twice.
"""

from __future__ import annotations

DEFAULT_URL = "https://api.dronebundle.com/v1"
DOCUMENTED_RATE_LIMIT = 1000  # requests per minute per key

STATUSES = (
    "draft",
    "not_started",
    "planned",
    "in_progress",
    "completed",
    "on_hold",
    "weather_delayed",
    "technical_issues",
    "cancelled",
    "aborted",
    "other",
)
PRIORITIES = ("low", "medium", "high")
JOB_PATTERNS = ("one_time", "recurring")
CAPTURE_TYPES = (
    "drone_inspection",
    "thermal_inspection",
    "video_capture",
    "3d_mapping",
    "lidar_scan",
    "orthomosaic",
    "ground_smartphone",
    "ground_360",
    "panorama",
)
FREQUENCIES = ("daily", "weekly", "monthly", "yearly", "flexible")
WEEKS_OF_MONTH = (1, 2, 3, 4, -1)

RECURRING_FIELDS = (
    "recurring_frequency",
    "recurring_interval",
    "selected_days_of_week",
    "week_of_month",
    "weeks_of_month",
    "flights_per_occurrence",
)
JOB_FIELDS = (
    "project_id",
    "name",
    "type",
    "job_pattern",
    "start_date",
    "status",
    "priority",
    "description",
    "end_date",
    "latitude",
    "longitude",
    "inspection_notes",
    "capture_types",
    "external_id",
    "other_status_reason",
    *RECURRING_FIELDS,
)
#: fields the API clears with an explicit null (update-job: "nullable fields cleared with null")
NULLABLE_JOB_FIELDS = frozenset(
    {
        "description",
        "end_date",
        "latitude",
        "longitude",
        "inspection_notes",
        "capture_types",
        "external_id",
        "other_status_reason",
        *RECURRING_FIELDS,
    }
)
#: documented defaults, sent when a field with a default is removed from the spec
JOB_DEFAULTS = {"status": "not_started", "priority": "medium"}

# The documented 400 messages, verbatim (create-job page, "Errors").
NAME_LENGTH = "name must be between 1 and 100 characters"
TYPE_REQUIRED = "type is required"
JOB_PATTERN_ENUM = "job_pattern must be one_time or recurring"
START_DATE_REQUIRED = "start_date is required"
START_DATE_ISO = "start_date must be a valid ISO date string"
END_AFTER_START = "end_date must be on or after start_date"
LATITUDE_RANGE = "latitude must be between -90 and 90"
LONGITUDE_RANGE = "longitude must be between -180 and 180"
LAT_LON_TOGETHER = "latitude and longitude must be provided together"
OTHER_REASON_REQUIRED = 'other_status_reason is required when status is "other"'
EXTERNAL_ID_LENGTH = "external_id must not exceed 255 characters"

DOCUMENTED_MESSAGES = (
    NAME_LENGTH,
    TYPE_REQUIRED,
    JOB_PATTERN_ENUM,
    START_DATE_REQUIRED,
    START_DATE_ISO,
    END_AFTER_START,
    LATITUDE_RANGE,
    LONGITUDE_RANGE,
    LAT_LON_TOGETHER,
    OTHER_REASON_REQUIRED,
    EXTERNAL_ID_LENGTH,
)

# Rules the page documents without quoting a message; worded in the same style.
START_DATE_TOO_OLD = "start_date cannot be more than 6 months in the past"
END_DATE_ISO = "end_date must be a valid ISO date string"
STATUS_ENUM = "status must be one of " + ", ".join(STATUSES)
PRIORITY_ENUM = "priority must be one of low, medium, high"
DESCRIPTION_LENGTH = "description must not exceed 1000 characters"
NOTES_LENGTH = "inspection_notes must not exceed 2000 characters"
OTHER_REASON_LENGTH = "other_status_reason must be between 1 and 200 characters"
CAPTURE_TYPES_RULE = "capture_types must be at most 20 unique values of " + ", ".join(CAPTURE_TYPES)
FREQUENCY_ENUM = "recurring_frequency must be one of " + ", ".join(FREQUENCIES)
INTERVAL_RANGE = "recurring_interval must be between 1 and 365"
INTERVAL_NOT_FLEXIBLE = "recurring_interval cannot be used with flexible frequency"
DAYS_RULE = "selected_days_of_week must be at most 7 values between 0 (Sunday) and 6 (Saturday)"
WEEK_OF_MONTH_ENUM = "week_of_month must be one of 1, 2, 3, 4 or -1 (last week)"
WEEKS_OF_MONTH_RULE = "weeks_of_month must be at most 5 unique values of 1, 2, 3, 4 or -1 (last week)"
FLIGHTS_RANGE = "flights_per_occurrence must be between 1 and 10"
RECURRING_ONLY = "{field} only applies when job_pattern is recurring"
