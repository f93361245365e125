"""Offline validation of a dronebundle spec the way the user should read it.

Runs the kind's JSON Schema (one reused Draft 2020-12 validator per kind) and then its
semantic ``check``. A schema failure inside a property that carries ``errorMessage`` is
reported with that message (the vendor's documented wording) instead of jsonschema's
generic text, and a missing required field with the documented "... is required" message.
The engine may use the same ``errorMessage`` convention; until then this is what the
provider's tests (and ``docs``) use to show the user-facing messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from skyform.errors import Issue
from skyform.providers import CheckContext, ResourceKind

from .schemas import REQUIRED_MESSAGES

_validators: dict[int, Draft202012Validator] = {}


def _validator(kind: ResourceKind) -> Draft202012Validator:
    key = id(kind.spec_schema)
    if key not in _validators:
        _validators[key] = Draft202012Validator(kind.spec_schema)
    return _validators[key]


def _schema_issue(kind: ResourceKind, error: Any) -> Issue:
    path = tuple(error.absolute_path)
    properties = kind.spec_schema.get("properties", {})
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return Issue((), REQUIRED_MESSAGES.get(missing, f"{missing} is required"), extra={"field": missing})
    if error.validator == "additionalProperties":
        allowed = ", ".join(properties)
        return Issue(path, error.message, hint=f"allowed fields: {allowed}")
    if path and isinstance(path[0], str):
        documented = properties.get(path[0], {}).get("errorMessage")
        if documented:
            return Issue(path[:1], documented, extra={"schema_message": error.message})
    return Issue(path, error.message)


def spec_issues(
    kind: ResourceKind, spec: Mapping[str, Any], today: date, mission_dir: Path = Path("."), address: str = "resource"
) -> list[Issue]:
    """Every problem of ``spec`` for ``kind``: schema first (one per field), then semantics."""
    found = [
        _schema_issue(kind, error)
        for error in sorted(_validator(kind).iter_errors(dict(spec)), key=lambda e: list(map(str, e.path)))
    ]
    found.extend(kind.check(spec, CheckContext(today=today, mission_dir=mission_dir, address=address)))
    issues: list[Issue] = []
    seen: set[tuple[Any, ...]] = set()
    for issue in found:  # a rule stated by both the schema and check() is reported once
        key = (issue.path, issue.message)
        if key not in seen:
            seen.add(key)
            issues.append(issue)
    return issues
