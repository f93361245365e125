"""One run's connection to the providers: settings resolved, clients connected lazily.

Settings come from the mission's ``providers:`` block (expressions resolved, secrets
registered for redaction) or, with ``--sandbox``, from the simulators (URLs, credentials)
together with the mission's settings the provider keeps (``Provider.sandbox_keeps``: its
``prices``), so a sandbox plan shows the mission's real totals. Each provider's
client is made once, on first use, by ``Provider.connect`` - from whichever worker thread
needs it first - and closed at the end of the run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import redact
from .errors import PluginError, SkyformError, SpecError
from .providers.base import OperationContext, Provider, Reporter, ResourceKind
from .providers.host import Registry
from .spec.mission import Mission
from .spec.secrets import Secrets
from .validate.scope import Scope

if TYPE_CHECKING:
    from .artifacts.store import ArtifactStore


class Runtime:
    """Providers, settings and clients for one mission run."""

    def __init__(
        self,
        mission: Mission,
        registry: Registry,
        secrets: Secrets | None = None,
        *,
        sandbox_settings: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.mission = mission
        self.registry = registry
        self.secrets = secrets or Secrets()
        self.sandbox_settings = sandbox_settings
        self._clients: dict[str, Any] = {}
        self._settings: dict[str, Mapping[str, Any]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._artifacts: ArtifactStore | None = None
        #: path -> digest of published files, for operations on a machine that lacks them:
        #: whoever runs operations away from the mission's files fills it
        #: (``artifacts.references.published_files`` over the mission's records)
        self.inputs: dict[str, str] = {}

    @property
    def artifacts(self) -> ArtifactStore:
        """The mission's artifact store (``settings.artifacts``, ``SKYFORM_ARTIFACTS``, else its own)."""
        with self._lock:
            if self._artifacts is None:
                from .artifacts.location import open_store

                self._artifacts = open_store(
                    self.mission.settings.get("artifacts"), self.mission.state_dir, mission_dir=self.mission.directory
                )
            return self._artifacts

    def kind(self, type_name: str) -> tuple[Provider, ResourceKind]:
        found = self.registry.resolve_type(type_name)
        if found is None:
            raise PluginError(f"no installed provider offers {type_name!r}")
        return found

    def settings(self, provider: str) -> Mapping[str, Any]:
        with self._lock:
            if provider in self._settings:
                return self._settings[provider]
        spec = self.registry.providers[provider]
        raw = self.mission.providers.get(provider, {})
        sandboxed = self.sandbox_settings is not None and provider in self.sandbox_settings
        if sandboxed:  # the simulator's connection, the mission's prices (and what else it keeps)
            raw = {k: v for k, v in raw.items() if k in spec.sandbox_keeps}
        problems: list[Any] = []
        scope = Scope(self.mission, self.secrets, require_secrets=not sandboxed)
        resolved = scope.resolve_at(raw, ("providers", provider), problems, provider)
        if problems:
            raise SpecError(problems)
        settings: Mapping[str, Any] = resolved or {}
        if sandboxed:
            assert self.sandbox_settings is not None
            settings = {**settings, **self.sandbox_settings[provider]}
        for key in spec.secret_settings:
            redact.register(settings.get(key))
        with self._lock:
            self._settings[provider] = settings
        return settings

    def client(self, provider: str) -> Any:
        with self._lock:
            if provider in self._clients:
                return self._clients[provider]
            lock = self._locks.setdefault(provider, threading.Lock())
        with lock:
            if provider in self._clients:
                return self._clients[provider]
            settings = self.settings(provider)
            try:
                client = self.registry.providers[provider].connect(settings)
            except SkyformError:
                raise
            except Exception as exc:  # a provider bug or a library error while connecting
                from .errors import PermanentError

                raise PermanentError(
                    f"{provider}: cannot connect: {redact.redact(str(exc))}", provider=provider
                ) from exc
            with self._lock:
                self._clients[provider] = client
            return client

    def context(
        self,
        address: str,
        type_name: str,
        *,
        idempotency_key: str,
        intent_at: float,
        lifecycle: Mapping[str, Any] | None = None,
        reporter: Reporter | None = None,
    ) -> OperationContext:
        provider, _ = self.kind(type_name)
        # not created here: an operation that writes creates it, so planning 10,000 resources
        # makes no 10,000 empty directories
        artifacts = self.mission.state_dir / "artifacts" / address
        return OperationContext(
            client=self.client(provider.name),
            settings=self.settings(provider.name),
            provider=provider.name,
            address=address,
            mission=self.mission.name,
            mission_dir=self.mission.directory,
            artifacts_dir=artifacts,
            idempotency_key=idempotency_key,
            intent_at=intent_at or time.time(),
            lifecycle=dict(lifecycle or {}),
            reporter=reporter or Reporter(),
            artifacts=self.artifacts,
            inputs=self.inputs,
        )

    def close(self) -> None:
        for client in self._clients.values():
            close = getattr(client, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # closing must never mask the run's own outcome
                    pass
        self._clients.clear()
