"""JSON Schemas of the local provider: the ``Files`` spec and outputs, and its (empty) settings."""

from __future__ import annotations

from typing import Any

SPEC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "A set of local files, by glob pattern(s) or explicit paths, relative to the mission directory.",
    "properties": {
        "glob": {
            "description": "A glob pattern (or a list of them), e.g. data/a12/*.JPG; ** matches directories.",
            "anyOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
            ],
        },
        "paths": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "description": "Explicit file paths.",
        },
        "min_count": {"type": "integer", "minimum": 0, "description": "Fail when fewer files match (default 1)."},
    },
    "oneOf": [{"required": ["glob"]}, {"required": ["paths"]}],
}

OUTPUTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "paths": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The files, sorted: inside the mission directory relative to it (POSIX), "
            "outside it absolute; the same in every checkout, resolved against the mission directory by consumers.",
        },
        "count": {"type": "integer"},
        "bytes": {"type": "integer"},
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "as in paths: relative to the mission directory"},
                    "sha256": {"type": "string"},
                    "bytes": {"type": "integer"},
                    "artifact": {
                        "type": "string",
                        "description": "sha256:<hex> in the shared artifact store (only with settings.artifacts)",
                    },
                },
            },
        },
        "manifest_sha256": {
            "type": "string",
            "description": "Digest of the sorted (path relative to the mission directory, sha256) list: "
            "the same in every checkout.",
        },
    },
    "required": ["paths", "count", "bytes", "files", "manifest_sha256"],
}

#: the provider takes no settings: files are read relative to the mission directory
SETTINGS_SCHEMA: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {}}
SECRET_SETTINGS: frozenset[str] = frozenset()
