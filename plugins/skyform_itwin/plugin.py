"""The entry point of the ``itwin`` provider: registered in group ``skyform`` like any third-party plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from skyform import hookimpl

#: where jobs go when the settings name no ``url`` (client.DEFAULT_URL, not imported: this module stays light)
DEFAULT_URL = "https://api.bentley.com/contextcapture"

if TYPE_CHECKING:
    from skyform.providers import Provider


@hookimpl
def skyform_providers() -> list[Provider]:
    """The itwin provider (imported lazily, so that ``skyform --help`` stays fast)."""
    from .provider import PROVIDER

    return [PROVIDER]


@hookimpl
def skyform_console_url(
    type: str, remote_id: str | None, outputs: dict[str, Any], settings: dict[str, Any]
) -> str | None:
    """A job on the ContextCapture API it was submitted to (the settings' ``url``; iTwin has
    no web page per job)."""
    if type != "itwin.Job" or not remote_id:
        return None
    base = settings.get("url")
    base = base if isinstance(base, str) and base.startswith(("http://", "https://")) else DEFAULT_URL
    return f"{base.rstrip('/')}/jobs/{quote(remote_id, safe='')}"
