"""The entry point of the ``local`` provider: registered in group ``skyform`` like any third-party plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from skyform import hookimpl

if TYPE_CHECKING:
    from skyform.providers import Provider


@hookimpl
def skyform_providers() -> list[Provider]:
    """The local provider (imported lazily, so that ``skyform --help`` stays fast)."""
    from .provider import PROVIDER

    return [PROVIDER]
