"""Registers the ``itwin`` provider through the ``skyform`` entry-point group, like any plugin."""

from __future__ import annotations

from typing import Any

from skyform import hookimpl


@hookimpl
def skyform_providers() -> list[Any]:
    from .provider import PROVIDER  # imported lazily: keeps `skyform --help` fast

    return [PROVIDER]
