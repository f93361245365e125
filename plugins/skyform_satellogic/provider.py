"""The satellogic provider: connection settings, the two kinds and the sandbox simulator."""

from __future__ import annotations

from typing import Any, Mapping

import skyform
from skyform import redact
from skyform.providers import Provider

from .client import DEFAULT_AUDIENCE, DEFAULT_TOKEN_URL, DEFAULT_URL, SatellogicClient
from .products import ProductsKind
from .task import TaskKind

SETTINGS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "description": "Connection to the Satellogic Tasking API: a token, or OAuth client credentials.",
    "properties": {
        "url": {"type": "string", "pattern": "^https?://", "default": DEFAULT_URL,
                "description": "Base URL of the Tasking API."},
        "token": {"type": "string", "minLength": 1,
                  "description": "An access token, sent as `authorizationToken: Bearer <token>`."},
        "client_id": {"type": "string", "minLength": 1, "description": "OAuth2 client id (client credentials)."},
        "client_secret": {"type": "string", "minLength": 1, "description": "OAuth2 client secret."},
        "token_url": {"type": "string", "pattern": "^https?://", "default": DEFAULT_TOKEN_URL,
                      "description": "OAuth2 token endpoint (legacy accounts: https://login.satellogic.com/oauth/token)."},
        "audience": {"type": "string", "default": DEFAULT_AUDIENCE, "description": "OAuth2 audience."},
        "contract_id": {"type": "string", "minLength": 1,
                        "description": "Aleph accounts: sent as X-Satellogic-Contract-Id on every call."},
        "poll_interval": {"type": "number", "exclusiveMinimum": 0,
                          "description": "Seconds between status polls of a running task (default: 15, "
                                         "backing off to 600); the sandbox sets it from its clock."},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "default": 30,
                    "description": "Seconds before a request times out."},
    },
    "dependentRequired": {"client_id": ["client_secret"], "client_secret": ["client_id"]},
    "anyOf": [{"required": ["token"]}, {"required": ["client_id", "client_secret"]}],
    "additionalProperties": False,
}

SECRET_SETTINGS = frozenset({"token", "client_secret"})


def connect(settings: Mapping[str, Any]) -> SatellogicClient:
    """A client for the resolved settings; secrets are registered for redaction first."""
    for name in SECRET_SETTINGS:
        if settings.get(name):
            redact.register(str(settings[name]))
    return SatellogicClient(settings)


def _simulator(options: Any) -> Any:
    from .simulator import SatellogicSimulator

    return SatellogicSimulator(options)


PROVIDER = Provider(
    name="satellogic",
    version=skyform.__version__,
    kinds=(TaskKind(), ProductsKind()),
    connect=connect,
    settings_schema=SETTINGS_SCHEMA,
    secret_settings=SECRET_SETTINGS,
    parallelism=4,
    simulator=_simulator,
    description="Satellogic Tasking API: satellite tasks (POI/AOI, recurring) and their captures.",
)
