"""What an import or export acts on: exactly one of ``project_id``, ``task_id`` or ``job_id``.

Shared by ``cvat.Annotations`` and ``cvat.Export``: the schema fragment, the pick, and the
cvat-sdk API object for each target type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from skyform.errors import Issue

from .suggestions import closest

TARGET_FIELDS = ("project_id", "task_id", "job_id")


def target_schema(fields: tuple[str, ...]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(properties, oneOf) saying that exactly one of ``fields`` is given."""
    properties = {f: {"type": "integer", "minimum": 1, "description": f"The {f[:-3]} to act on."} for f in fields}
    one_of = [{"required": [f], "not": {"anyOf": [{"required": [o]} for o in fields if o != f]}} for f in fields]
    return properties, one_of


def target_of(spec: Mapping[str, Any]) -> tuple[str, int]:
    """("task", 12) for a spec with ``task_id: 12``."""
    for field in TARGET_FIELDS:
        if spec.get(field) is not None:
            return field[:-3], int(spec[field])
    raise KeyError("no target")


def api_for(sdk: Any, target: str) -> Any:
    """The generated API object (projects_api, tasks_api, jobs_api) for a target type."""
    return getattr(sdk.api_client, f"{target}s_api")


def check_format(fmt: Any, offered: Iterable[str], what: str) -> Iterable[Issue]:
    """An Issue when the server does not offer ``fmt``, naming the closest offered formats."""
    offered = sorted(offered)
    if not isinstance(fmt, str) or fmt in offered:
        return
    close = closest(fmt, offered)
    hint = ("did you mean " + " or ".join(repr(c) for c in close) + "?") if close else None
    yield Issue(
        ("format",), f"the CVAT server has no {what} format {fmt!r}; it offers: {', '.join(offered)}", hint=hint
    )
