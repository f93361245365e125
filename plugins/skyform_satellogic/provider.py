"""The satellogic provider: connection settings, the two kinds and the sandbox simulator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import skyform
from skyform import redact
from skyform.providers import Provider

from .client import SatellogicClient
from .products import ProductsKind
from .schemas import SECRET_SETTINGS, SETTINGS_SCHEMA
from .task import TaskKind


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
