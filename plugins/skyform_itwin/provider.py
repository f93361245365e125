"""The ``itwin`` provider: Bentley iTwin Reality Modeling (ContextCapture v1) workspaces and jobs.

Settings: ``url`` (default https://api.bentley.com/contextcapture), and either ``token`` or
``client_id`` + ``client_secret`` (+ ``token_url``, ``scope``) for OAuth2 client
credentials; optional ``budget`` (largest estimatedCost any job may have to be submitted)
and ``poll_backoff``. ``token`` and ``client_secret`` are secret: redacted, never stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import skyform
from skyform.providers import Provider

from .client import ItwinClient
from .job import JobKind
from .schemas import SECRET_SETTINGS, SETTINGS_SCHEMA
from .workspace import WorkspaceKind


def connect(settings: Mapping[str, Any]) -> ItwinClient:
    """The client for one run (its defaults applied; secrets registered for redaction)."""
    return ItwinClient.connect(settings)


def _simulator(options: Any) -> Any:
    from .simulator import ItwinSimulator

    return ItwinSimulator(options)


PROVIDER = Provider(
    name="itwin",
    version=skyform.__version__,
    kinds=(WorkspaceKind(), JobKind()),
    connect=connect,
    settings_schema=SETTINGS_SCHEMA,
    secret_settings=SECRET_SETTINGS,
    # documented tier limits are 500-5000 requests/min; a few concurrent calls suffice
    parallelism=8,
    simulator=_simulator,
    sandbox_keeps=frozenset({"budget"}),  # the operator's ceiling on a job's estimatedCost
    description="Bentley iTwin Reality Modeling (ContextCapture v1): workspaces and reconstruction jobs",
)
