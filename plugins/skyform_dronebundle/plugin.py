"""Registers the dronebundle provider through the ``skyform`` entry-point group."""

from __future__ import annotations

from skyform import hookimpl


@hookimpl
def skyform_providers():  # type: ignore[no-untyped-def]
    """The dronebundle provider (imported lazily to keep ``skyform --help`` fast)."""
    from .provider import PROVIDER

    return [PROVIDER]
