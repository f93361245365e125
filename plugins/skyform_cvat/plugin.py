"""The entry point of the ``cvat`` provider: registered in group ``skyform`` like any third-party plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skyform import hookimpl

if TYPE_CHECKING:
    from skyform.providers import Provider


@hookimpl
def skyform_providers() -> list[Provider]:
    """The cvat provider (imported lazily, so that ``skyform --help`` stays fast)."""
    from .provider import PROVIDER

    return [PROVIDER]


@hookimpl
def skyform_console_url(
    type: str, remote_id: str | None, outputs: dict[str, Any], settings: dict[str, Any]
) -> str | None:
    """A project's, task's or job's page in CVAT's web UI: the ``url`` its record holds
    (against the sandbox, the simulator's address)."""
    if not type.startswith("cvat.") or type == "cvat.Export":
        return None
    url = outputs.get("url")
    return url if isinstance(url, str) else None
