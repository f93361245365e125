"""cvat-sdk and urllib3 failures translated into skyform's error tree.

Operations wrap every SDK call in :func:`sdk_errors`, so the engine sees TransientError for
what a retry may fix (connection failures, 429 with Retry-After, 5xx) and PermanentError
subclasses for the rest, with DRF error bodies turned into one readable line. Messages are
built from the status and body only (never from request headers) and pass through redaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from skyform import redact
from skyform.errors import AuthError, NotFound, PermanentError, RateLimited, RemoteError, TransientError

PROVIDER = "cvat"


def describe_body(body: Any) -> str:
    """A DRF error body as one line: ``detail``, or ``field: message`` pairs, or a message list."""
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return body.strip()[:300]
    if isinstance(body, dict):
        if "detail" in body and len(body) == 1:
            return str(body["detail"])
        parts = []
        for field, messages in body.items():
            text = describe_body(messages)
            parts.append(text if field == "non_field_errors" else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(body, list):
        return "; ".join(describe_body(item) for item in body if item not in ({}, [], None))
    return str(body)


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def translate(exc: Exception, action: str) -> RemoteError:
    """The skyform error for a failed SDK call; ``action`` says what was being done."""
    import urllib3
    from cvat_sdk.api_client.exceptions import ApiException, ApiValueError, OpenApiException
    from cvat_sdk.core.exceptions import CvatSdkException

    if isinstance(exc, ApiException) and exc.status:
        status = int(exc.status)
        text = redact.redact(describe_body(exc.body))
        message = f"CVAT: {action} failed (HTTP {status}: {text})"
        if status == 401:
            return AuthError(
                message,
                provider=PROVIDER,
                status=status,
                hint="check the access_token, or username and password, in the cvat provider settings",
            )
        if status == 403:
            return AuthError(
                message,
                provider=PROVIDER,
                status=status,
                hint="the CVAT user lacks permission; check its role and the organization setting",
            )
        if status == 404:
            return NotFound(message, provider=PROVIDER, status=status)
        if status == 429:
            return RateLimited(message, provider=PROVIDER, status=status, retry_after=_retry_after(exc.headers))
        if status >= 500:
            return TransientError(message, provider=PROVIDER, status=status, retry_after=_retry_after(exc.headers))
        return PermanentError(message, provider=PROVIDER, status=status, body=text)
    if isinstance(exc, (ApiException, urllib3.exceptions.HTTPError, ConnectionError, TimeoutError)):
        return TransientError(
            f"CVAT: {action} failed: cannot reach the server ({type(exc).__name__})", provider=PROVIDER
        )
    if isinstance(exc, (ApiValueError, OpenApiException, CvatSdkException)):
        return PermanentError(f"CVAT: {action} failed: {redact.redact(str(exc))}", provider=PROVIDER)
    raise exc


@contextmanager
def sdk_errors(action: str, remote_id: str | None = None) -> Iterator[None]:
    """Run SDK calls, raising skyform errors (``remote_id``: an object already made, to record)."""
    import urllib3
    from cvat_sdk.api_client.exceptions import OpenApiException
    from cvat_sdk.core.exceptions import CvatSdkException

    try:
        yield
    except RemoteError:
        raise
    except (OpenApiException, CvatSdkException, urllib3.exceptions.HTTPError, ConnectionError, TimeoutError) as exc:
        error = translate(exc, action)
        error.remote_id = error.remote_id or remote_id
        raise error from exc
