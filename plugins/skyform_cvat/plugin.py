"""Registers the ``cvat`` provider through skyform's entry-point group, like any third-party plugin."""

from __future__ import annotations

from skyform import hookimpl


@hookimpl
def skyform_providers() -> list:
    """The cvat provider (imported lazily so that ``skyform --help`` stays fast)."""
    from .provider import PROVIDER

    return [PROVIDER]
