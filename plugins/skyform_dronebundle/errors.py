"""DroneBundle's error answers translated into skyform errors that say what to do.

The API answers 400 ``{message}`` for validation, 403 ``{message, code_name}`` for every
authentication or authorisation failure, 404 ``{message}``; excess requests past the
documented 1,000 per minute are rejected (429 assumed, with Retry-After when sent).
"""

from __future__ import annotations

from typing import Any

import httpx

from skyform import redact
from skyform.errors import AuthError, NotFound, PermanentError, RateLimited, RemoteError
from skyform.http import parse_retry_after

from .vocabulary import JOB_FIELDS

PROVIDER = "dronebundle"
KEYS_PAGE = "the DroneBundle dashboard's API Keys page"

#: code_name -> what the user should do (one line each, never the key itself)
AUTH_ADVICE: dict[str, str] = {
    "invalid_api_key": "the API key was not recognised: set api_key in the dronebundle provider "
    f"settings to a key from {KEYS_PAGE} (keys start with v1_ and are shown once)",
    "api_key_inactive": f"the API key is inactive: reactivate it on {KEYS_PAGE}, or create a new key "
    "and set it as api_key",
    "read_only_access": "the API key has the read_only scope but {request} needs full_access: "
    f"use a key with the full_access scope (create one on {KEYS_PAGE})",
    "enterprise_required": "the workspace is not on the Enterprise plan, which the DroneBundle API "
    "requires: upgrade the workspace, or use a key of an Enterprise workspace",
    "api_key_path_not_allowed": "the API key is not allowed to call {request}: allow this path for "
    f"the key on {KEYS_PAGE}, or use a key without path restrictions",
}


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _request_text(response: httpx.Response) -> str:
    request = response.request
    return redact.redact(f"{request.method} {request.url.path}")


def _field_of(message: str) -> str | None:
    """The field a validation message is about (its first word, when that is a job field)."""
    first = message.split(" ", 1)[0]
    return first if first in JOB_FIELDS else None


def describe(response: httpx.Response) -> RemoteError | None:
    """The skyform error for a DroneBundle error answer; None leaves the generic mapping."""
    status = response.status_code
    body = _body(response)
    message = body.get("message") if isinstance(body, dict) else None
    request = _request_text(response)
    common: dict[str, Any] = {"provider": PROVIDER, "status": status, "body": redact.redact_data(body)}
    if status == 403:
        code = body.get("code_name") if isinstance(body, dict) else None
        advice = AUTH_ADVICE.get(str(code))
        if advice is None:
            advice = f"the request {request} was refused ({message or 'HTTP 403'}); check api_key"
        text = f"{PROVIDER}: {advice.format(request=request)}" + (f" [{code}]" if code else "")
        return AuthError(text, **common)
    if status == 429:
        return RateLimited(
            f"{PROVIDER}: {request}: rate limit reached ({message or 'too many requests'}); "
            "the documented limit is 1,000 requests per minute per key",
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            **common,
        )
    if status == 404:
        return NotFound(f"{PROVIDER}: {request}: {message or 'not found'}", **common)
    if status == 400 and message:
        return PermanentError(
            f"{PROVIDER}: {request} was rejected: {redact.redact(message)}", field=_field_of(message), **common
        )
    return None
