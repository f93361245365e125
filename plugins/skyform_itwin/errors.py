"""Turn iTwin error bodies into skyform errors, pointing 422 details back at the spec field.

The documented body is ``{"error": {"code", "message", "target"?, "details"?: [{code,
message, target?}]}}``, but clients must not assume every failure has it (seed, "Detailed
Error Response"), so each accessor tolerates anything. A job's creation body IS its spec,
so a detail's ``target`` (``settings.quality``, ``inputs[0].id``, ``settings/outputs/1``)
names a spec field; when a detail has no target, the documented message style "Invalid
'type' parameter." still names it.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from skyform import redact
from skyform.errors import AuthError, NotFound, PermanentError, RateLimited, RemoteError, TransientError
from skyform.http import TRANSIENT_STATUS, parse_retry_after

PROVIDER = "itwin"
_QUOTED = re.compile(r"'([A-Za-z0-9_.\[\]/$]+)'")
_SPLIT = re.compile(r"[./\[\]]+")


def spec_path(target: str) -> tuple[str | int, ...]:
    """A target as a path of keys and indexes: ``inputs[0].id`` -> ``("inputs", 0, "id")``."""
    parts: list[str | int] = []
    for piece in _SPLIT.split(target.strip()):
        if not piece:
            continue
        parts.append(int(piece) if piece.isdigit() else piece)
    return tuple(parts)


def dotted(path: tuple[str | int, ...]) -> str:
    """The dotted form used in diagnostics: ``settings.outputs.1``."""
    return ".".join(str(p) for p in path)


def _error_object(body: Any) -> dict[str, Any]:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    return {}


def detail_targets(body: Any) -> list[tuple[str, str]]:
    """(dotted spec path or "", message) for every detail of a 422 body (or the error itself)."""
    error = _error_object(body)
    if not error:
        return []
    details = error.get("details") if isinstance(error.get("details"), list) else []
    found: list[tuple[str, str]] = []
    for detail in details or [error]:
        if not isinstance(detail, dict):
            continue
        message = str(detail.get("message") or detail.get("code") or "")
        target = detail.get("target")
        if not isinstance(target, str) or not target:
            quoted = _QUOTED.search(message)
            target = quoted.group(1) if quoted else ""
        found.append((dotted(spec_path(target)) if target else "", message))
    return found


def describe(response: httpx.Response) -> RemoteError:
    """The skyform error for a failed iTwin response (used as ServiceClient.describe_error)."""
    status = response.status_code
    where = f"{response.request.method} {response.request.url.path}"
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    error = _error_object(body)
    code = str(error.get("code") or f"HTTP {status}")
    summary = str(error.get("message") or (body if isinstance(body, str) else "") or "").strip()
    head = redact.redact(f"{PROVIDER}: {where}: {status} {code}" + (f": {summary}" if summary else ""))
    kw: dict[str, Any] = {"provider": PROVIDER, "status": status, "body": redact.redact_data(body)}
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 429:
        return RateLimited(head, retry_after=retry_after, **kw)
    if status in TRANSIENT_STATUS:
        return TransientError(head, retry_after=retry_after, **kw)
    if status in (401, 403):
        return AuthError(
            head,
            hint="check the token, or client_id/client_secret and that the application has the itwin-platform scope",
            **kw,
        )
    if status == 404:
        return NotFound(head, **kw)
    if status == 422:
        targets = detail_targets(body)
        fields = [t for t, _ in targets if t]
        lines = "; ".join(redact.redact(f"{t}: {m}" if t else m) for t, m in targets if m or t)
        return PermanentError(head + (f" ({lines})" if lines else ""), field=fields[0] if fields else None, **kw)
    return PermanentError(head, **kw)
