"""The ``local`` provider: files on disk, no service, no settings, no simulator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import skyform
from skyform.providers import Provider

from .files import FilesKind
from .schemas import SECRET_SETTINGS, SETTINGS_SCHEMA


def _connect(settings: Mapping[str, Any]) -> None:
    """No client: the operations read the mission directory directly."""
    return None


PROVIDER = Provider(
    name="local",
    version=skyform.__version__,
    kinds=(FilesKind(),),
    connect=_connect,
    settings_schema=SETTINGS_SCHEMA,
    secret_settings=SECRET_SETTINGS,
    description="Files on disk: image sets with checksums.",
)
