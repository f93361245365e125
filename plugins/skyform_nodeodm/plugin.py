"""Registers the nodeodm provider through the ``skyform`` entry-point group."""

from __future__ import annotations

from skyform import hookimpl


@hookimpl
def skyform_providers():  # type: ignore[no-untyped-def]
    from .provider import PROVIDER  # imported lazily: keeps `skyform --help` fast

    return [PROVIDER]
