"""The iTwin job model as JSON Schema, taken verbatim from the documented v1 "Create a new job" page.

The vendor's component schemas (seed ``itwin-reality-modeling-create-job.txt``) are kept
under their own names in ``$defs`` and ``#/components/schemas/...`` references become
``#/$defs/...``: the spec a user writes IS the documented Job Creation body. The one
addition is ``minimum: 0`` on ``processingEngines``, whose documented description states
the range ("between 0 and your engine limit").
"""

from __future__ import annotations

from typing import Any

#: documented enums (seed: "Output format", "Job quality", "Job Creation type", ...)
FORMATS = (
    "CCOrientations",
    "3MX",
    "3SM",
    "WebReady ScalableMesh",
    "Cesium 3D Tiles",
    "POD",
    "Orthophoto/DSM",
    "LAS",
    "FBX",
    "OBJ",
    "ESRI i3s",
    "DGN",
    "LODTreeExport",
    "PLY",
    "OPC",
    "OMR",
    "ContextScene",
)
QUALITIES = ("Draft", "Medium", "Extra")
JOB_TYPES = ("Full", "Calibration", "Reconstruction")
JOB_STATES = ("unsubmitted", "active", "success", "failed", "cancelled")
TERMINAL_STATES = frozenset({"success", "failed", "cancelled"})
LOCATIONS = (
    "East US",
    "North Europe",
    "Southeast Asia",
    "Australia East",
    "UK South",
    "Japan East",
    "UAE North",
    "Canada Central",
)

_DEFS: dict[str, Any] = {
    "format": {
        "title": "Output format",
        "enum": list(FORMATS),
        "description": "Output format among 'CCOrientations', '3MX', '3SM', 'WebReady ScalableMesh', "
        "'Cesium 3D Tiles', 'POD', 'Orthophoto/DSM', 'LAS', 'FBX', 'OBJ', 'ESRI i3s', 'DGN', "
        "'LODTreeExport', 'PLY', 'OPC', OMR and ContextScene.",
    },
    "quality": {
        "title": "Job quality",
        "enum": list(QUALITIES),
        "description": "Job quality among 'Draft', 'Medium' and 'Extra'",
    },
    "costEstimationParameters": {
        "title": "Cost Estimation Parameters",
        "description": "Parameters to be used to estimate the cost of the job",
        "type": "object",
        "properties": {
            "gigaPixels": {"type": "number", "description": "Gigapixels to be processed"},
            "megaPoints": {"type": "number", "description": "Megapoints to be processed"},
            "meshQuality": {"$ref": "#/$defs/quality", "description": "Quality of the job"},
        },
        "additionalProperties": False,
    },
    "jobInput": {
        "title": "Job Input",
        "description": "Description of an input for a job",
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "Context Share reality data id of the input"},
            "description": {"type": "string", "description": "Description of the input"},
        },
        "required": ["id"],
        "additionalProperties": False,
    },
    "cacheSettings": {
        "title": "Cache settings",
        "description": "Describe how a job will use and create cache",
        "type": "object",
        "properties": {
            "createCache": {"type": "boolean", "description": "Indicate if the job will produce a cache"},
            "useCache": {"type": "string", "description": "Id of the previous job cache to be reused"},
        },
        "additionalProperties": False,
    },
    "jobCreateSettings": {
        "title": "Job Create Settings",
        "description": "Settings for job creation",
        "type": "object",
        "properties": {
            "quality": {"$ref": "#/$defs/quality", "description": "Quality of the job"},
            "processingEngines": {
                "type": "integer",
                "minimum": 0,
                "description": "Number of engines to be used at most, between 0 and your engine limit. "
                "If set at 0, it will use your engine limit.",
            },
            "outputs": {
                "type": "array",
                "items": {"$ref": "#/$defs/format"},
                "description": "List of output formats to be produced",
            },
            "cacheSettings": {"$ref": "#/$defs/cacheSettings", "description": "Cache settings for the job"},
        },
        "required": ["quality", "outputs"],
        "additionalProperties": False,
    },
    "jobCreation-type": {
        "enum": list(JOB_TYPES),
        "description": "Job type among 'Full', 'Calibration' and 'Reconstruction'",
        "title": "Job Creation type",
    },
}

JOB_SPEC_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Job Creation",
    "description": "Model for creating a new job",
    "type": "object",
    "properties": {
        "type": {
            "enum": list(JOB_TYPES),
            "description": "Job type among 'Full', 'Calibration' and 'Reconstruction'",
            "title": "Job Creation type",
            "$ref": "#/$defs/jobCreation-type",
        },
        "name": {"type": "string", "description": "Job name"},
        "costEstimationParameters": {
            "$ref": "#/$defs/costEstimationParameters",
            "description": "Parameters to be used to estimate the cost of the job",
        },
        "workspaceId": {"type": "string", "description": "Workspace id relative to the job created"},
        "inputs": {"type": "array", "items": {"$ref": "#/$defs/jobInput"}, "description": "List of inputs for the job"},
        "settings": {"$ref": "#/$defs/jobCreateSettings", "description": "Settings for this job"},
    },
    "required": ["type", "name", "workspaceId", "inputs", "settings"],
    "additionalProperties": False,
    "$defs": _DEFS,
}

JOB_OUTPUTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The job as the service reports it; one extra key per requested output format "
    "(e.g. 'OBJ', 'Cesium 3D Tiles', and 'Cesium_3D_Tiles' for use in expressions) holding that "
    "output's Reality Data id (null until produced).",
    "properties": {
        "id": {"type": "string", "description": "Job unique id"},
        "state": {"enum": list(JOB_STATES), "description": "Job current state"},
        "estimatedCost": {
            "type": ["number", "null"],
            "description": "Estimated Cost of the job using the CostEstimationParameters",
        },
        "estimatedUnits": {"type": ["number", "null"], "description": "Estimated processing units cost"},
        "location": {"enum": list(LOCATIONS), "description": "Datacenter location of the job"},
        "workspaceId": {"type": "string", "description": "Workspace id relative to the job"},
        "iTwinId": {"type": ["string", "null"], "description": "Project Id"},
        "outputs": {
            "type": "object",
            "description": "Output format -> Reality Data id",
            "additionalProperties": {"type": ["string", "null"]},
        },
        "ids": {
            "type": "array",
            "items": {"type": ["string", "null"]},
            "description": "Reality Data ids of the outputs, in the order of settings.outputs",
        },
        "results": {
            "type": "object",
            "description": "Output format -> its files, downloaded and kept in the artifact store "
            "(download_results): reality_data_id and files [{name, path, sha256, bytes, artifact}]",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "reality_data_id": {"type": "string"},
                    "files": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "name": {"type": "string"},
                                "path": {"type": "string"},
                                "sha256": {"type": "string"},
                                "bytes": {"type": "integer"},
                                "artifact": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    },
    "additionalProperties": {"type": ["string", "null"], "description": "Reality Data id of one output format"},
}

WORKSPACE_SPEC_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Workspace creation",
    "description": "A ContextCapture workspace, the container of jobs (POST /workspaces).",
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "description": "Workspace name"},
        "iTwinId": {"type": "string", "description": "Id of the iTwin (project) the workspace belongs to"},
        "contextCaptureVersion": {
            "type": "string",
            "description": "Version of ContextCapture to use (the service's current one when omitted)",
        },
    },
    "required": ["name"],
    "additionalProperties": False,
}

WORKSPACE_OUTPUTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "Workspace id (use as a job's workspaceId)"},
        "name": {"type": "string", "description": "Workspace name"},
        "iTwinId": {"type": ["string", "null"], "description": "Id of the iTwin"},
        "createdDateTime": {"type": "string", "description": "Creation time of the workspace"},
        "contextCaptureVersion": {"type": ["string", "null"], "description": "ContextCapture version used"},
    },
    "additionalProperties": False,
}

SETTINGS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "itwin provider settings",
    "type": "object",
    "properties": {
        "url": {
            "type": "string",
            "pattern": "^https?://",
            "description": "Base URL of the ContextCapture API (default https://api.bentley.com/contextcapture)",
        },
        "token": {
            "type": "string",
            "minLength": 1,
            "description": "A bearer token with scope itwin-platform (instead of client credentials)",
        },
        "client_id": {"type": "string", "minLength": 1, "description": "Service application client id"},
        "client_secret": {"type": "string", "minLength": 1, "description": "Service application client secret"},
        "token_url": {
            "type": "string",
            "pattern": "^https?://",
            "description": "OAuth2 token endpoint (default https://ims.bentley.com/connect/token)",
        },
        "scope": {"type": "string", "description": "OAuth2 scope (default itwin-platform)"},
        "budget": {
            "type": "number",
            "minimum": 0,
            "description": "Largest estimatedCost a job may have to be submitted (every job of this provider)",
        },
        "poll_backoff": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "number", "exclusiveMinimum": 0},
            "description": "Seconds between progress polls, restarted when the percentage changes "
            "(default the documented 15, 30, 60, 120)",
        },
        "timeout": {"type": "number", "exclusiveMinimum": 0, "description": "HTTP timeout in seconds (default 30)"},
        "reality_url": {
            "type": "string",
            "pattern": "^https?://",
            "description": "Base URL of Reality Management, where a job's outputs are read "
            "(default https://api.bentley.com/reality-management)",
        },
        "download_results": {
            "type": "boolean",
            "description": "Download a finished job's outputs into the artifact store (default true)",
        },
    },
    "dependentRequired": {"client_id": ["client_secret"], "client_secret": ["client_id"]},
    "oneOf": [
        {"required": ["token"], "not": {"required": ["client_id"]}},
        {"required": ["client_id", "client_secret"], "not": {"required": ["token"]}},
    ],
    "additionalProperties": False,
}
SECRET_SETTINGS = frozenset({"token", "client_secret"})
