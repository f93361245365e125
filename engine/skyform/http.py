"""The shared HTTP policy of providers without an official client.

:class:`ServiceClient` wraps an ``httpx.Client``: timeouts, secrets registered for
redaction, and every failure translated into the error tree: connection problems,
timeouts, 429 and 5xx become :class:`~skyform.errors.TransientError` (429 as
``RateLimited`` with the server's Retry-After), other 4xx :class:`PermanentError`
(401/403 as ``AuthError``, 404 as ``NotFound``). It does not retry: the engine's scheduler
owns retries, backoff and Retry-After, so a waiting request never holds a worker thread.
"""

from __future__ import annotations

import email.utils
import functools
import os
import ssl
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from . import redact
from .errors import AuthError, NotFound, PermanentError, RateLimited, RemoteError, TransientError

USER_AGENT = "skyform/0.1"
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), None if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_text(body: Any, limit: int = 500) -> str:
    """A short, redacted rendering of an error body for messages."""
    text = body if isinstance(body, str) else repr(body)
    text = redact.redact(text)
    return text if len(text) <= limit else text[:limit] + "…"


class RateLimiter:
    """A token bucket that keeps a client under a documented request rate (thread-safe)."""

    def __init__(self, per_minute: float, burst: int | None = None) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(burst or max(1, int(per_minute // 10)))
        self.tokens = self.capacity
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            time.sleep(wait)


@functools.lru_cache(maxsize=4)
def _tls_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context()


def tls_context() -> ssl.SSLContext:
    """The verifying TLS context every client of this process shares (what httpx would build).

    httpx builds a new context for each client, and building one loads the CA bundle: ~50 ms
    of CPU, more than an in-process plan of a small mission; a run makes a client per
    provider and per token fetch. A context is safe to share between clients and threads;
    one is kept per ``SSL_CERT_FILE``/``SSL_CERT_DIR``, the settings httpx reads.
    """
    return _tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


class ServiceClient:
    """A JSON-over-HTTP client with skyform's error translation and redaction.

    ``auth`` is an ``httpx.Auth`` (or None); ``secrets`` are registered for redaction;
    ``describe_error(response)`` lets a provider turn its service's error body into a
    message (and choose the error class) before the generic mapping applies.
    """

    def __init__(
        self,
        base_url: str,
        *,
        provider: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        secrets: Iterable[str] = (),
        timeout: float = 30.0,
        rate_limiter: RateLimiter | None = None,
        describe_error: Callable[[httpx.Response], RemoteError | None] | None = None,
    ) -> None:
        for s in secrets:
            redact.register(s)
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.rate_limiter = rate_limiter
        self.describe_error = describe_error
        self.http = httpx.Client(
            base_url=self.base_url,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            params=params,
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            follow_redirects=False,
            verify=tls_context(),
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, ok: Iterable[int] = (), **kw: Any) -> httpx.Response:
        """Send a request; return the response when it succeeded, raise a skyform error otherwise.

        ``ok`` lists extra status codes to hand back instead of raising (e.g. 404 for reads).
        """
        if self.rate_limiter is not None:
            self.rate_limiter.acquire()
        where = f"{method} {self.base_url}{path if path.startswith('/') or not path else '/' + path}"
        try:
            response = self.http.request(method, path, **kw)
        except httpx.TimeoutException as exc:
            raise TransientError(f"{self.provider}: {redact.redact(where)}: timed out", provider=self.provider) from exc
        except httpx.TransportError as exc:
            raise TransientError(
                f"{self.provider}: {redact.redact(where)}: {redact.redact(str(exc)) or type(exc).__name__}",
                provider=self.provider,
            ) from exc
        if response.is_success or response.status_code in set(ok):
            return response
        raise self.error_for(response, where)

    def error_for(self, response: httpx.Response, where: str) -> RemoteError:
        """The skyform error for an unsuccessful response."""
        if self.describe_error is not None:
            custom = self.describe_error(response)
            if custom is not None:
                return custom
        status = response.status_code
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        text = f"{self.provider}: {redact.redact(where)}: HTTP {status}: {error_text(body)}"
        kw: dict[str, Any] = {"provider": self.provider, "status": status, "body": redact.redact_data(body)}
        if status == 429:
            return RateLimited(text, retry_after=parse_retry_after(response.headers.get("Retry-After")), **kw)
        if status in TRANSIENT_STATUS:
            return TransientError(text, retry_after=parse_retry_after(response.headers.get("Retry-After")), **kw)
        if status in (401, 403):
            return AuthError(text, **kw)
        if status == 404:
            return NotFound(text, **kw)
        return PermanentError(text, **kw)

    # conveniences returning decoded JSON (an answer that is not JSON is a RemoteError)
    def get(self, path: str, **kw: Any) -> Any:
        return self._json(self.request("GET", path, **kw), "GET", path, empty_ok=False)

    def post(self, path: str, **kw: Any) -> Any:
        return self._json(self.request("POST", path, **kw), "POST", path)

    def patch(self, path: str, **kw: Any) -> Any:
        return self._json(self.request("PATCH", path, **kw), "PATCH", path)

    def put(self, path: str, **kw: Any) -> Any:
        return self._json(self.request("PUT", path, **kw), "PUT", path)

    def delete(self, path: str, **kw: Any) -> Any:
        return self._json(self.request("DELETE", path, **kw), "DELETE", path)

    def _json(self, response: httpx.Response, method: str, path: str, empty_ok: bool = True) -> Any:
        if not response.content and empty_ok:
            return None
        try:
            return response.json()
        except ValueError:
            # HTML from a proxy or a captive portal, a truncated body: worth another try
            raise TransientError(
                f"{self.provider}: {method} {redact.redact(path)}: the service answered with "
                f"something that is not JSON: {error_text(response.text, 80)!r}",
                provider=self.provider,
                status=response.status_code,
            ) from None


@contextmanager
def reading(provider: str, where: str) -> Iterator[None]:
    """Read a service's answer; a missing key or a wrong type is a PermanentError, not a crash.

    ``with reading("itwin", "POST /workspaces"): ws = body["workspace"]["id"]``
    """
    try:
        yield
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise PermanentError(
            f"{provider}: {where}: unexpected answer from the service "
            f"({type(exc).__name__}: {redact.redact(str(exc))[:120]})",
            provider=provider,
        ) from exc


class ClientCredentials(httpx.Auth):
    """OAuth2 client-credentials auth: token fetched, cached until expiry, refreshed on 401 once.

    Thread-safe; the token and the client secret are registered for redaction.
    """

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        header: str = "Authorization",
        scheme: str = "Bearer",
        extra: Mapping[str, str] | None = None,
        provider: str = "oauth",
    ) -> None:
        redact.register(client_secret)
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self.header = header
        self.scheme = scheme
        self.extra = dict(extra or {})
        self.provider = provider
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def _fetch(self) -> str:
        data = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret}
        if self.scope:
            data["scope"] = self.scope
        data.update(self.extra)
        try:
            r = httpx.post(self.token_url, data=data, timeout=30.0, verify=tls_context())
        except httpx.TransportError as exc:
            raise TransientError(
                f"{self.provider}: token endpoint unreachable: {redact.redact(str(exc))}", provider=self.provider
            ) from exc
        if r.status_code == 429:
            raise RateLimited(
                f"{self.provider}: the token endpoint is rate limiting (HTTP 429)",
                provider=self.provider,
                status=429,
                retry_after=parse_retry_after(r.headers.get("Retry-After")),
            )
        if r.status_code >= 500:
            raise TransientError(
                f"{self.provider}: token endpoint answered HTTP {r.status_code}",
                provider=self.provider,
                status=r.status_code,
                retry_after=parse_retry_after(r.headers.get("Retry-After")),
            )
        if r.status_code >= 400:
            raise AuthError(
                f"{self.provider}: the token endpoint refused the client credentials (HTTP {r.status_code})",
                provider=self.provider,
                status=r.status_code,
                hint="check client_id and client_secret in the provider settings",
            )
        try:
            body = r.json()
        except ValueError:
            raise TransientError(
                f"{self.provider}: the token endpoint answered with something that is not JSON",
                provider=self.provider,
                status=r.status_code,
            ) from None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError(
                f"{self.provider}: the token endpoint answered without an access_token",
                provider=self.provider,
                status=r.status_code,
                hint="check token_url in the provider settings",
            )
        redact.register(token)
        try:
            lifetime = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._expires = time.monotonic() + max(lifetime - 30, 0.0)
        return token

    def token(self, *, force: bool = False) -> str:
        with self._lock:
            if force or self._token is None or time.monotonic() >= self._expires:
                self._token = self._fetch()
            return self._token

    def _value(self, token: str) -> str:
        return f"{self.scheme} {token}" if self.scheme else token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self._value(self.token())
        response = yield request
        if response.status_code == 401:
            request.headers[self.header] = self._value(self.token(force=True))
            yield request


class StaticToken(httpx.Auth):
    """A fixed token in a header (``Authorization: Bearer …`` or a service's own header)."""

    def __init__(self, token: str, *, header: str = "Authorization", scheme: str = "Bearer") -> None:
        redact.register(token)
        self.value = f"{scheme} {token}" if scheme else token
        self.header = header

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self.header] = self.value
        yield request
