"""The ``nodeodm`` provider: settings, connection and the ``Task`` kind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import skyform
from skyform import redact
from skyform.providers import Provider

from .fleet import Fleet
from .schemas import SECRET_SETTINGS, SETTINGS_SCHEMA
from .task import TaskKind


def connect(settings: Mapping[str, Any]) -> Fleet:
    """A Fleet over the configured node(s); every token is registered for redaction first."""
    redact.register(settings.get("token"))
    for node in settings.get("nodes") or []:
        redact.register(node.get("token"))
    return Fleet(settings)


def _simulator(options: Any) -> Any:
    from .simulator import NodeODMSimulator

    return NodeODMSimulator(options)


PROVIDER = Provider(
    name="nodeodm",
    version=skyform.__version__,
    kinds=(TaskKind(),),
    connect=connect,
    settings_schema=SETTINGS_SCHEMA,
    secret_settings=SECRET_SETTINGS,
    parallelism=8,
    simulator=_simulator,
    description="OpenDroneMap processing on NodeODM nodes or a ClusterODM cluster (same API).",
)
