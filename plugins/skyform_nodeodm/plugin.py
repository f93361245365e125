"""The entry point of the ``nodeodm`` provider: registered in group ``skyform`` like any third-party plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from skyform import hookimpl

if TYPE_CHECKING:
    from skyform.providers import Provider


@hookimpl
def skyform_providers() -> list[Provider]:
    """The nodeodm provider (imported lazily, so that ``skyform --help`` stays fast)."""
    from .provider import PROVIDER

    return [PROVIDER]


@hookimpl
def skyform_console_url(
    type: str, remote_id: str | None, outputs: dict[str, Any], settings: dict[str, Any]
) -> str | None:
    """A task's ``/task/{uuid}/info`` on the node that ran it (NodeODM has no web page per
    task; ClusterODM and the simulator answer the same path)."""
    if type != "nodeodm.Task":
        return None
    node, uuid = outputs.get("node"), outputs.get("uuid") or remote_id
    if not isinstance(node, str) or not uuid:
        return None
    return f"{node.rstrip('/')}/task/{quote(str(uuid), safe='')}/info"
