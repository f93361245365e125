"""Registers the satellogic provider through the ``skyform`` entry-point group."""

from __future__ import annotations

from skyform import hookimpl


@hookimpl
def skyform_providers() -> list:
    """The satellogic provider (imported lazily: keeps ``skyform --help`` fast)."""
    from .provider import PROVIDER

    return [PROVIDER]
