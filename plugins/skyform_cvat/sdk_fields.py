"""Optional fields of cvat-sdk objects: models and entity proxies answer differently when absent."""

from __future__ import annotations

from typing import Any


def field(obj: Any, name: str, default: Any = None) -> Any:
    """``obj.name`` when the server sent it, else ``default`` (CVAT omits e.g. a task's size before data)."""
    model = getattr(obj, "_model", obj)
    try:
        return model.get(name, default)
    except AttributeError:
        return getattr(model, name, default)
