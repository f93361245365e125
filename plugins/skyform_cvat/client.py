"""The connection to one CVAT server: settings, a lazily built cvat-sdk Client, users, formats.

The Client is made on first use (``skyform validate`` never connects), logs in with a
personal access token or a username and password, and enters the configured organisation.
The SDK's own version check only warns; we do it ourselves so that a server outside the
SDK's range (X.Y, X.Y+1) is logged once at INFO and never refused.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

import urllib3
from cvat_sdk.core.client import AccessTokenCredentials, Client, Config, PasswordCredentials
from cvat_sdk.version import VERSION as SDK_VERSION

from skyform import redact
from skyform.errors import AuthError, PermanentError

from .errors import sdk_errors
from .schemas import SECRET_SETTINGS
from .suggestions import unknown_user_message

log = logging.getLogger("skyform.provider.cvat")


class CvatConnection:
    """One server's cvat-sdk Client (built on first use) plus the caches plans need."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.url = str(settings["url"]).rstrip("/")
        self.settings = dict(settings)
        for name in SECRET_SETTINGS:
            if settings.get(name):
                redact.register(str(settings[name]))
        self._client: Client | None = None
        self._lock = threading.Lock()
        self._users: dict[str, int] | None = None
        self.server_version: str | None = None

    @property
    def sdk(self) -> Client:
        """The logged-in cvat-sdk Client."""
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _connect(self) -> Client:
        config = Config(verify_ssl=self.settings.get("verify_ssl"), status_check_period=1)
        with sdk_errors(f"connecting to {self.url}"):
            client = Client(self.url, logger=log, config=config, check_server_version=False)
            # the SDK retries 502-504 itself (sleeping on Retry-After); skyform's scheduler retries
            # TransientError with the server's Retry-After, so each call here is one request
            client.api_client.rest_client.pool_manager.connection_pool_kw["retries"] = urllib3.util.Retry(
                total=0, status_forcelist=(), respect_retry_after_header=False, raise_on_status=False
            )
            version = client.get_server_version()
            self.server_version = str(version)
            if not any(client._is_version_compatible(version, v) for v in Client.SUPPORTED_SERVER_VERSIONS):
                log.info(
                    "CVAT server %s is outside cvat-sdk %s's tested range; continuing", self.server_version, SDK_VERSION
                )
        if self.settings.get("access_token"):
            client.login(AccessTokenCredentials(str(self.settings["access_token"])))
        elif self.settings.get("username"):
            self._login(client)
        else:
            raise AuthError("CVAT: no credentials: set access_token, or username and password", provider="cvat")
        if self.settings.get("organization") is not None:
            client.organization_slug = str(self.settings["organization"])
        return client

    def _login(self, client: Client) -> None:
        """Password login (``POST /api/auth/login``); CVAT answers a wrong password with 400."""
        try:
            with sdk_errors(f"logging in to {self.url} as {self.settings['username']!r}"):
                client.login(
                    PasswordCredentials(str(self.settings["username"]), str(self.settings.get("password", "")))
                )
        except PermanentError as exc:
            if exc.status == 400:
                raise AuthError(
                    exc.message,
                    provider="cvat",
                    status=400,
                    hint="check username and password in the cvat provider settings",
                ) from exc
            raise

    def close(self) -> None:
        """Close the SDK client's connections (the engine calls this after a run)."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # -- lookups used at plan time ------------------------------------------------------------
    def user_ids(self) -> dict[str, int]:
        """Username → user id, for every user the caller may see (cached per run)."""
        if self._users is None:
            with sdk_errors("listing users"):
                self._users = {u.username: u.id for u in self.sdk.users.list()}
        return self._users

    def user_id(self, username: str) -> int:
        """The id of ``username``, or a PermanentError that suggests the nearest names."""
        users = self.user_ids()
        if username in users:
            return users[username]
        raise PermanentError(unknown_user_message(username, users), provider="cvat", field="assignee")

    def usernames(self) -> dict[int, str]:
        """User id → username, the inverse of user_ids()."""
        return {uid: name for name, uid in self.user_ids().items()}

    def formats(self) -> tuple[set[str], set[str]]:
        """(importer names, exporter names) the server offers."""
        with sdk_errors("listing annotation formats"):
            found, _ = self.sdk.api_client.server_api.retrieve_annotation_formats()
        return {f.name for f in found.importers}, {f.name for f in found.exporters}
