"""The dronebundle provider object: settings, connection and kinds.

Settings: ``url`` (default the documented base ``https://api.dronebundle.com/v1``),
``api_key`` (a Bearer key starting ``v1_``; redacted everywhere, never stored) and
``rate_limit`` (requests per minute the client allows itself; the documented 1,000).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import skyform
from skyform.providers import Provider

from .client import DroneBundleClient
from .job import JobKind
from .project import ProjectKind
from .schemas import SECRET_SETTINGS, SETTINGS_SCHEMA
from .vocabulary import DEFAULT_URL, DOCUMENTED_RATE_LIMIT


def connect(settings: Mapping[str, Any]) -> DroneBundleClient:
    """A client for the resolved settings (documented defaults applied here)."""
    return DroneBundleClient(
        str(settings.get("url") or DEFAULT_URL),
        str(settings.get("api_key") or ""),
        rate_limit=int(settings.get("rate_limit") or DOCUMENTED_RATE_LIMIT),
    )


def _simulator(options: Any) -> Any:
    from .simulator import DroneBundleSimulator

    return DroneBundleSimulator(options)


PROVIDER = Provider(
    name="dronebundle",
    version=skyform.__version__,
    kinds=(ProjectKind(), JobKind()),
    connect=connect,
    settings_schema=SETTINGS_SCHEMA,
    secret_settings=SECRET_SETTINGS,
    parallelism=8,
    simulator=_simulator,
    description="DroneBundle drone-operations projects and jobs (one-time and recurring).",
)
