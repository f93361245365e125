"""The service's answers: the documented error body and its 422 details from a job body.

Errors look like ``{"error": {"code", "message", "details"?: [{code, message, target}]}}``
(seed "Detailed Error Response"); 422 details name the offending parameter the way the
documented example does ("Invalid 'type' parameter.") and carry it as ``target``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from werkzeug.wrappers import Response

from skyform.sandbox.simulator import json_response

from ..schemas import JOB_SPEC_SCHEMA

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_JOB_VALIDATOR = Draft202012Validator(JOB_SPEC_SCHEMA)
_PATCHABLE = {
    "settings": Draft202012Validator(
        {**JOB_SPEC_SCHEMA["$defs"]["jobCreateSettings"], "$defs": JOB_SPEC_SCHEMA["$defs"]}
    ),
    "costEstimationParameters": Draft202012Validator(
        {**JOB_SPEC_SCHEMA["$defs"]["costEstimationParameters"], "$defs": JOB_SPEC_SCHEMA["$defs"]}
    ),
}


def error(
    status: int,
    code: str,
    message: str,
    details: Iterable[Mapping[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    """A response with the documented error body."""
    body: dict[str, Any] = {"code": code, "message": message}
    details = list(details)
    if details:
        body["details"] = details
    return json_response({"error": body}, status, headers)


def invalid(message: str, details: Iterable[Mapping[str, Any]]) -> Response:
    """The 422 the service answers for a request it cannot process."""
    return error(422, "InvalidContextCaptureRequest", message, details)


def detail(target: str, message: str | None = None, code: str = "InvalidParameter") -> dict[str, Any]:
    return {"code": code, "message": message or f"Invalid '{target}' parameter.", "target": target}


def _target(path: Iterable[Any], prefix: str = "") -> str:
    out = prefix
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _details(validator: Draft202012Validator, body: Any, prefix: str = "") -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for err in validator.iter_errors(body):
        base = _target(err.absolute_path, prefix)
        if err.validator == "required":
            missing = err.message.split("'")[1]
            target = f"{base}.{missing}" if base else missing
            found.setdefault(target, detail(target, f"Missing '{target}' parameter.", "MissingParameter"))
        elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            for extra in sorted(set(err.instance) - allowed):
                target = f"{base}.{extra}" if base else extra
                found.setdefault(target, detail(target, f"Unknown '{target}' parameter."))
        else:
            target = base or "body"
            found.setdefault(target, detail(target))
    return list(found.values())


def job_body_details(body: Any) -> list[dict[str, Any]]:
    """422 details for a job creation body (empty when it is valid)."""
    return _details(_JOB_VALIDATOR, body)


def patch_details(body: Any) -> list[dict[str, Any]]:
    """422 details for the settings / costEstimationParameters of a PATCH body."""
    found: list[dict[str, Any]] = []
    for key, validator in _PATCHABLE.items():
        if key in body:
            found += _details(validator, body[key], key)
    return found
