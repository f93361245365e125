"""The cvat provider's connection settings: their schema and which of them are secret.

Kept apart from the SDK so that validating a mission never imports cvat-sdk.
"""

from __future__ import annotations

from typing import Any

from .pricing import PRICES_SCHEMA

SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "How to reach a CVAT server: its URL and a personal access token, or a username and password.",
    "properties": {
        "url": {
            "type": "string",
            "pattern": "^https?://",
            "description": "The server's root URL, e.g. https://app.cvat.ai.",
        },
        "access_token": {
            "type": "string",
            "minLength": 1,
            "description": "A personal access token (Profile > Security, or POST /api/auth/access_tokens).",
        },
        "username": {
            "type": "string",
            "minLength": 1,
            "description": "A user name (with password), instead of a token.",
        },
        "password": {"type": "string", "minLength": 1, "description": "The user's password."},
        "organization": {
            "type": "string",
            "description": "Organisation slug to work in (X-Organization); empty: the personal workspace.",
        },
        "verify_ssl": {"type": "boolean", "description": "Verify the server's TLS certificate (default true)."},
        "prices": PRICES_SCHEMA,
    },
    "required": ["url"],
    "oneOf": [
        {"required": ["access_token"], "not": {"anyOf": [{"required": ["username"]}, {"required": ["password"]}]}},
        {"required": ["username", "password"], "not": {"required": ["access_token"]}},
    ],
}
SECRET_SETTINGS = frozenset({"access_token", "password"})
