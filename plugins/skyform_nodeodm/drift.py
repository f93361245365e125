"""Comparing a task as the node holds it with the spec that made it (for drift)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def observed(info: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """The spec fields a task shows on the node: its options and its name."""
    seen: dict[str, Any] = {"options": observed_options(info, spec.get("options") or {})}
    if "name" in info:
        seen["name"] = info["name"]
    return seen


def observed_options(info: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The task's options on the node, keyed like the spec; equal values keep the spec's form."""
    remote = {str(o.get("name")): o.get("value") for o in info.get("options") or [] if isinstance(o, dict)}
    out: dict[str, Any] = {}
    for name, value in remote.items():
        if name not in wanted:
            continue  # e.g. max-concurrency, which the node adds on its own
        out[name] = wanted[name] if _same(wanted[name], value) else value
    return out


def _same(spec_value: Any, remote: Any) -> bool:
    if isinstance(spec_value, (dict, list)):
        try:
            return json.loads(remote) == spec_value if isinstance(remote, str) else remote == spec_value
        except ValueError:
            return False
    if isinstance(spec_value, bool) or isinstance(remote, bool):
        truthy = ("true", "1")
        return (str(spec_value).lower() in truthy) == (str(remote).lower() in truthy)
    try:
        return float(spec_value) == float(remote)
    except (TypeError, ValueError):
        return str(spec_value) == str(remote)
