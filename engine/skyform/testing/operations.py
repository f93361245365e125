"""Calling one kind's operations the way the engine does, for provider tests.

:class:`Operations` builds the ``OperationContext`` (client, idempotency key, intent time,
mission and artifact directories), polls running jobs on a short real-time interval (the
sandbox clock makes jobs short) and turns results into the ``Record`` the engine would
have stored. :func:`find_provider` loads an installed provider through its entry point,
as skyform does; :func:`spec_problems` validates a spec like ``skyform validate``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from ..errors import PluginError
from ..providers.base import Change, CheckContext, OperationContext, Provider, Record, ResourceKind, Result
from ..providers.cost import Cost


def find_provider(name: str) -> Provider:
    """The installed provider ``name``, loading only its own entry point (others may be broken)."""
    from ..providers.host import GROUP, build_plugin_manager, load_registry

    pm = build_plugin_manager(autoload=False)
    for ep in metadata.entry_points(group=GROUP, name=name):
        if not pm.is_registered(ep.load()):
            pm.register(ep.load(), name=ep.name)
    registry = load_registry(pm)
    if name not in registry.providers:
        registry = load_registry(build_plugin_manager(autoload=True))
    if name not in registry.providers:
        raise PluginError(
            f"provider {name!r} is not installed (no entry point {name!r} in group {GROUP!r} offers it)",
            hint="install the provider's package, e.g. `pip install -e .` in its directory",
        )
    return registry.providers[name]


def spec_problems(
    kind: ResourceKind, spec: Mapping[str, Any], mission_dir: Path, address: str = "contract"
) -> list[tuple[tuple[Any, ...], str]]:
    """Every (path, message) the schema and the kind's ``check`` find in ``spec``."""
    problems = [
        (tuple(e.absolute_path), e.message) for e in Draft202012Validator(kind.spec_schema).iter_errors(dict(spec))
    ]
    ctx = CheckContext(today=date.today(), mission_dir=mission_dir, address=address)
    problems += [(tuple(i.path), i.message) for i in kind.check(spec, ctx) if i.severity == "error"]
    return problems


def engine_wording(
    schema: Mapping[str, Any], spec: Mapping[str, Any], raw: str, base: tuple[Any, ...] = ("resources", "r", "spec")
) -> str:
    """What `skyform validate` says for the jsonschema failure whose text contains ``raw``
    (a case table written with jsonschema's wording, as :func:`spec_problems` returns it);
    ``raw`` itself when no schema failure matches (a kind's own check message)."""
    from ..validate.messages import explain

    for error in Draft202012Validator(schema).iter_errors(dict(spec)):
        if raw in error.message:
            return explain(error, base + tuple(error.absolute_path))[0]
    return raw


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Top-level field changes from ``before`` to ``after`` (what the planner hands ``update``)."""
    keys = sorted(set(before) | set(after))
    return [Change((k,), before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


class Operations:
    """One kind of one provider, connected to live settings (usually a simulator's)."""

    def __init__(
        self,
        provider: Provider,
        kind: ResourceKind | str,
        settings: Mapping[str, Any],
        mission_dir: Path,
        *,
        poll_timeout: float = 30.0,
        poll_interval: float = 0.05,
    ) -> None:
        found = provider.kind(kind) if isinstance(kind, str) else kind
        if found is None:
            raise PluginError(
                f"provider {provider.name!r} has no kind {kind!r}; it has {', '.join(k.name for k in provider.kinds)}"
            )
        self.provider = provider
        self.kind = found
        self.settings = dict(settings)
        self.mission_dir = mission_dir
        self.poll_timeout = poll_timeout
        self.poll_interval = poll_interval
        self.client = provider.connect(self.settings)
        self.address = f"{found.name.lower()}_under_test"
        self.prepared: dict[str, Any] = {}  # spec fields a contract's prepare() computed
        self.intents: dict[str, float] = {}  # idempotency key -> intent time, as state records them
        self._siblings: list[Operations] = []

    def sibling(self, kind: str) -> Operations:
        """Operations on another kind of the same provider (e.g. to create a parent object)."""
        other = Operations(
            self.provider,
            kind,
            self.settings,
            self.mission_dir,
            poll_timeout=self.poll_timeout,
            poll_interval=self.poll_interval,
        )
        self._siblings.append(other)
        return other

    def close(self) -> None:
        for other in self._siblings:
            other.close()
        close = getattr(self.client, "close", None)
        if close is not None:
            close()

    def context(self, key: str | None = None, intent_at: float | None = None) -> OperationContext:
        """The context the engine would pass: a fresh idempotency key unless given, and the
        intent time recorded for that key (so adopt sees the create's intent, as after a crash)."""
        key = key or str(uuid.uuid4())
        if intent_at is None:
            intent_at = self.intents.setdefault(key, time.time())
        artifacts = self.mission_dir / ".skyform" / "artifacts" / self.address
        artifacts.mkdir(parents=True, exist_ok=True)
        return OperationContext(
            client=self.client,
            settings=self.settings,
            provider=self.provider.name,
            address=self.address,
            mission="contract",
            mission_dir=self.mission_dir,
            artifacts_dir=artifacts,
            idempotency_key=key,
            intent_at=intent_at,
        )

    def record(self, result: Result, spec: Mapping[str, Any], ctx: OperationContext) -> Record:
        """The state record the engine would write for ``result``."""
        return Record(
            address=self.address,
            type=f"{self.provider.name}.{self.kind.name}",
            remote_id=result.remote_id,
            status=result.status,
            spec=dict(spec),
            outputs=dict(result.outputs),
            observed=dict(result.observed or {}),
            private=dict(result.private),
            idempotency_key=ctx.idempotency_key,
            intent_at=ctx.intent_at,
        )

    # -- operations --------------------------------------------------------------------------
    def submit(self, spec: Mapping[str, Any], key: str | None = None) -> Record:
        """``create`` only (a running job stays running)."""
        ctx = self.context(key)
        return self.record(self.kind.create(spec, ctx), spec, ctx)

    def wait(self, record: Record) -> Record:
        """Poll a running job until it is ready or failed (AssertionError after ``poll_timeout``)."""
        deadline = time.monotonic() + self.poll_timeout
        ctx = self.context(record.idempotency_key, record.intent_at)
        while record.status == "running":
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{record.type} {record.remote_id} still running after {self.poll_timeout:.0f} s of real time"
                )
            time.sleep(self.poll_interval)
            result = self.kind.poll(record, ctx)
            merged = Result(**{**result.__dict__, "private": {**record.private, **result.private}})
            record = self.record(merged, record.spec, ctx)
        return record

    def create(self, spec: Mapping[str, Any], key: str | None = None) -> Record:
        """``create`` then poll until the object is ready or failed."""
        return self.wait(self.submit(spec, key))

    def adopt(self, spec: Mapping[str, Any], key: str) -> Result | None:
        return self.kind.adopt(spec, self.context(key))

    def read(self, record: Record) -> Result | None:
        return self.kind.read(record, self.context(record.idempotency_key, record.intent_at))

    def update(self, record: Record, spec: Mapping[str, Any]) -> Record:
        """``update`` with the top-level changes from the recorded spec, then poll."""
        ctx = self.context(record.idempotency_key, record.intent_at)
        result = self.kind.update(record, spec, changes_between(record.spec, spec), ctx)
        return self.wait(self.record(result, spec, ctx))

    def estimate_cost(self, spec: Mapping[str, Any], **settings: Any) -> Cost | None:
        """``estimate_cost`` as the planner calls it, with ``settings`` (e.g. ``prices``) added."""
        ctx = self.context()
        ctx.settings = {**ctx.settings, **settings}
        return self.kind.estimate_cost(spec, ctx)

    def delete(self, record: Record) -> None:
        self.kind.delete(record, self.context(record.idempotency_key, record.intent_at))
