"""Registers the dronebundle provider through the ``skyform`` entry-point group."""

from __future__ import annotations

from skyform import hookimpl


@hookimpl
def skyform_providers() -> list:  # list[Provider]; the import stays lazy
    """The dronebundle provider (imported lazily to keep ``skyform --help`` fast)."""
    from .provider import PROVIDER

    return [PROVIDER]
