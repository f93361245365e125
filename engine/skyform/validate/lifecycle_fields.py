"""``lifecycle.ignore_changes`` entries must name fields the kind's spec has.

A misspelt entry (``ignore_changes: [lables]``) would otherwise ignore nothing, silently:
the change the user meant to keep out of the plan is acted on. Each entry is a top-level
spec field or a dotted path into it (``labels.0.color``), checked against the kind's
spec schema (see :mod:`skyform.validate.schema_paths` for when a field counts as unknown).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import Diagnostic
from ..spec.yamlsource import locate
from ..suggest import did_you_mean
from .schema_paths import schemas_at


def _fields(schema: Mapping[str, Any]) -> list[str]:
    props = schema.get("properties")
    return [str(k) for k in props] if isinstance(props, Mapping) else []


def ignore_changes_diagnostics(resource: Any, schema: Mapping[str, Any], document: Any) -> Iterable[Diagnostic]:
    """A diagnostic for each ``ignore_changes`` entry that names no field of the spec."""
    lifecycle = resource.declaration.get("lifecycle") if isinstance(resource.declaration, dict) else None
    entries = lifecycle.get("ignore_changes") if isinstance(lifecycle, dict) else None
    if not isinstance(entries, list):
        return
    for i, entry in enumerate(entries):
        if not isinstance(entry, str) or not entry:
            continue  # the envelope schema reports it
        parts = entry.split(".")
        for depth in range(1, len(parts) + 1):
            if schemas_at(schema, parts[:depth]) is None:
                break
        else:
            continue
        missing = parts[depth - 1]
        where = ".".join(parts[: depth - 1])
        known = _fields(schema) if depth == 1 else []
        path = ("resources", resource.id, "lifecycle", "ignore_changes", i)
        yield Diagnostic(
            ".".join(map(str, path)),
            f"{entry!r} is not a field of {resource.type}"
            + (f" ({missing!r} is not under {where})" if where else "")
            + (f"; its fields: {', '.join(known)}" if known and len(known) <= 30 else ""),
            locate(document, path),
            resource.type,
            hint=did_you_mean(missing, known) if known else None,
        )
