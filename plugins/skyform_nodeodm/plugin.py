"""Registers the nodeodm provider through the ``skyform`` entry-point group."""

from __future__ import annotations

from typing import TYPE_CHECKING

from skyform import hookimpl

if TYPE_CHECKING:
    from skyform.providers import Provider


@hookimpl
def skyform_providers() -> list[Provider]:
    from .provider import PROVIDER  # imported lazily: keeps `skyform --help` fast

    return [PROVIDER]
