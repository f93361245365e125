"""The programmatic flow: load → validate → plan → apply, as the CLI and gitops use it.

A :class:`Session` owns one mission run: the registry, the provider runtime (real
settings or sandbox simulators), the state store and the lock. Everything the CLI prints
comes through the ``emit`` callback as JSON-able events, so the same flow serves text
output, ``--json`` lines and tests.

Longer than 400 lines because the formatter's layout (one argument per line) stretched
the Session past the limit on 2026-12-03; it is still one idea, a run. The next split:
the post-apply steps (state backup, catalog, provenance block) into ``apply/finish.py``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ApplyFailed, Diagnostic, PlanRefused, SkyformError, SpecError
from .events import EventKind
from .gcpause import paused_gc
from .providers.base import DEFAULT_PARALLELISM
from .providers.host import Registry, load_registry
from .spec.mission import Mission
from .spec.secrets import Secrets

if TYPE_CHECKING:
    # imported by the methods that use them: `skyform validate` loads none of these, nor the
    # sandbox (start-up time, issue 16)
    from .apply.node import ApplyOutcome
    from .apply.scheduler import Scheduler
    from .approvals.gate import Admission, ApprovalSource
    from .plan.model import Plan
    from .plan.relocation import Relocation
    from .runtime import Runtime
    from .sandbox.host import SimulatorHost
    from .state.base import ResourceState, StateStore

Emit = Callable[[dict[str, Any]], None]
log = logging.getLogger(__name__)


def _quiet(_: dict[str, Any]) -> None:
    pass


@dataclass
class Options:
    """Settings of one run (the CLI flags)."""

    state_url: str | None = None
    sandbox: bool = False
    secrets_file: Path | None = None
    parallelism: int = DEFAULT_PARALLELISM
    refresh: bool = True
    targets: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)  # --exclude: these and what depends on them stay untouched
    allow_forget: bool = False
    fail_fast: bool = False
    detach: bool = False
    today: date | None = None
    executor: str = "local"  # where provider calls run (--executor): a skyform_executors name
    broker: str | None = None  # --broker: the celery executor's broker URL
    worker_timeout: float | None = None  # --worker-timeout: how long the celery executor waits for a worker
    mission_name: str | None = None  # gitops: a store-wide unique name for the mission
    attributes: dict[str, Any] = field(default_factory=dict)  # recorded on the mission (commit, repository)


def load(
    path: str | Path, registry: Registry | None = None, *, secrets: Secrets | None = None, today: date | None = None
) -> tuple[Mission, list[Diagnostic]]:
    """Load and validate a mission; SpecError with every problem, else (mission, warnings)."""
    from .spec.cache import load_cached, remember

    registry = registry or load_registry()
    today = today or date.today()
    with paused_gc():
        mission, cached_ok, envelope = load_cached(Path(path), registry, today)
        if cached_ok:
            return mission, []
        # the checks are imported only when they run: an unchanged mission skips them
        from .validate.checks import combine

        # all errors at once: an envelope mistake does not stop the checks of everything else
        problems = combine(envelope, _checked(mission, registry, secrets, today, partial=bool(envelope)))
    valid = not any(p.severity == "error" for p in problems)
    if not envelope:  # an envelope-invalid document is never cached
        remember(mission, registry, today, valid=valid and not problems)  # warnings are shown every time
    if not valid:
        raise SpecError(problems)
    return mission, problems


def _checked(
    mission: Mission, registry: Registry, secrets: Secrets | None, today: date, *, partial: bool
) -> list[Diagnostic]:
    """validate_mission; over the usable part of an envelope-invalid mission it is a best
    effort, and a shape it did not foresee leaves the envelope's own diagnostics to speak."""
    from .validate.checks import validate_mission

    if not partial:
        return validate_mission(mission, registry, secrets=secrets, today=today)
    try:
        return validate_mission(mission, registry, secrets=secrets, today=today)
    except Exception:
        log.debug("validation of the usable part of an invalid mission failed", exc_info=True)
        return []


class Session:
    """One mission's run: providers, state, lock. Use as a context manager."""

    def __init__(
        self, path: str | Path, options: Options | None = None, *, registry: Registry | None = None, emit: Emit = _quiet
    ) -> None:
        self.options = options or Options()
        self.registry = registry or load_registry()
        self.emit = emit
        self.secrets = Secrets.from_file(self.options.secrets_file)
        self.mission, self.warnings = load(path, self.registry, secrets=self.secrets, today=self.options.today)
        if self.options.mission_name:
            self.mission.name = self.options.mission_name
        self._stack = ExitStack()
        self.store: StateStore | None = None
        self.runtime: Runtime | None = None
        self.sandbox: SimulatorHost | None = None
        #: the last plan, the records it was made from and those records relocated (.plan.relocation)
        self._planned: tuple[Plan, dict[str, ResourceState], Relocation] | None = None
        self.output_problems: list[Diagnostic] = []  # outputs the last apply could not resolve
        self._lock_held = False  # inside holding_lock(): apply must not take the lock again
        self._admitted: Admission | None = None  # the plan admit() just let through, for apply

    def __enter__(self) -> Session:
        from .runtime import Runtime
        from .state import open_store

        try:
            self.store = open_store(
                self.options.state_url, self.mission.directory, self.registry.state_backends.values()
            )
            self._stack.callback(self.store.close)
            sandbox_settings = None
            if self.options.sandbox:
                sandbox_settings = self._start_sandbox()
            self.runtime = Runtime(self.mission, self.registry, self.secrets, sandbox_settings=sandbox_settings)
            self._stack.callback(self.runtime.close)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _start_sandbox(self) -> dict[str, Any]:
        from .sandbox.session import mission_sandbox_dir, start_sandbox

        used = {r.provider for r in self.mission.resources.values()}
        if self.store is not None:
            used |= {type_.partition(".")[0] for type_, _ in self.store.statuses(self.mission.name).values()}
        providers = [self.registry.providers[p] for p in sorted(used) if p in self.registry.providers]
        host = start_sandbox(providers, mission_sandbox_dir(self.mission.directory))
        self._stack.callback(host.stop)
        self.sandbox = host
        return host.settings()

    # -- operations -----------------------------------------------------------------------
    def plan(self, mode: str = "apply") -> Plan:
        from .plan.planner import Planner

        assert self.runtime is not None and self.store is not None
        with paused_gc():
            planner = Planner(self.mission, self.runtime, self.store, today=self.options.today)
            plan = planner.plan(
                mode=mode,
                targets=self.options.targets,
                do_refresh=self.options.refresh,
                parallelism=self.options.parallelism,
                allow_forget=self.options.allow_forget,
                excludes=self.options.excludes,
            )
        self._planned = (plan, planner.records, planner.relocation)
        plan.warnings += [str(w) for w in self.warnings]
        plan.sandbox = self.options.sandbox
        self._observe(
            "skyform_plan_ready", lambda: self.registry.hooks.plan_ready(mission=self.mission.name, plan=plan.to_json())
        )
        return plan

    def _observe(self, hook: str, call: Callable[[], None]) -> None:
        """Call an observer hook; a failing observer is a warning, never the run's end."""
        try:
            call()
        except Exception as exc:
            self.emit(
                {
                    "event": EventKind.WARNING,
                    "message": f"an observer plugin failed in {hook}: {type(exc).__name__}: {exc}",
                }
            )

    def check_mode(self) -> None:
        """Refuse to mix sandbox and real runs in one state: records of one world are
        meaningless in the other, and mixing would orphan real objects."""
        assert self.store is not None
        state = self.store.mission(self.mission.name)
        if state is None or not self.store.has_resources(self.mission.name):
            return
        recorded = bool(state.attributes.get("sandbox", False))
        if recorded != self.options.sandbox:
            was, now = ("the sandbox", "the real services") if recorded else ("the real services", "the sandbox")
            raise PlanRefused(
                f"this state records objects of {was}; a run against {now} would overwrite them",
                hint="keep the two apart with --state (e.g. --state sqlite:///sandbox.db for sandbox try-outs)",
            )

    def check_fresh(self, plan: Plan) -> None:
        """Refuse a saved plan whose mission or state has moved on."""
        assert self.store is not None
        if plan.sandbox != self.options.sandbox:
            raise PlanRefused(
                "the saved plan was made "
                + ("with" if plan.sandbox else "without")
                + " --sandbox; apply it the same way"
            )
        if plan.spec_digest != self.mission.digest:
            raise PlanRefused(
                "the saved plan was made from a different version of the mission files", hint="run `skyform plan` again"
            )
        state = self.store.mission(self.mission.name)
        serial = state.serial if state else 0
        lineage = state.lineage if state else ""
        if (plan.lineage and lineage != plan.lineage) or serial != plan.serial:
            raise PlanRefused(
                f"the saved plan is stale: it was made against state serial {plan.serial}, "
                f"the state is now at serial {serial}",
                hint="run `skyform plan` again",
            )

    @contextmanager
    def holding_lock(self, operation: str) -> Iterator[None]:
        """Hold the mission's lock across plan, approval and apply, as Terraform does.

        Planning outside the lock would let a second run refresh while the first writes and
        then act on state that moved; under the lock, a concurrent run fails at once (exit 6)
        naming the holder, and the plan is made from the state the apply will change.
        """
        assert self.store is not None
        if self._lock_held:
            yield
            return
        with self.store.locked(
            self.mission.name, operation, warn=lambda m: self.emit({"event": EventKind.WARNING, "message": m})
        ):
            self._lock_held = True
            try:
                yield
            finally:
                self._lock_held = False

    def admit(self, plan: Plan, *, acknowledged: bool = False, approval: ApprovalSource | None = None) -> Admission:
        """The gate (:mod:`skyform.approvals.gate`): let ``plan`` through or raise PlanRefused.

        Fails closed: an irreversible plan needs ``acknowledged=True`` (``--ack-irreversible``)
        or an approval offered explicitly (``StoredApprovals()`` for ``skyform approve``'s,
        ``CommittedApproval(root)`` for a GitOps file); a policy needs its approvals. Stored
        approvals it lets through are used (usable once). :meth:`apply` calls it unless the
        plan was admitted just before (the CLI does, to refuse before its prompt).
        """
        from .approvals.gate import admit

        assert self.store is not None
        with self.holding_lock("destroy" if plan.mode == "destroy" else "apply"):
            self.check_fresh(plan)
            admitted = admit(
                plan,
                self.store,
                acknowledged=acknowledged,
                approval=approval,
                sandbox=self.options.sandbox,
                fresh_cost=lambda: self.fresh_cost(plan),
            )
        self._admitted = admitted
        return admitted

    def upgrade_state(self, plan: Plan) -> int:
        """Write the records ``plan`` was made from in today's form, for an apply with nothing
        to do: state from another checkout or an older version (:mod:`.plan.relocation`) is
        upgraded at its first apply, not at the first one that acts. Returns how many."""
        planned = self._planned
        if planned is None or planned[0] is not plan or self.store is None or self.runtime is None:
            return 0
        _, changed = planned[2]
        if not changed:
            return 0
        with self.holding_lock("apply"):
            self.check_fresh(plan)
            self.store.write(self.mission.name, changed)
        self._planned = None  # the state moved on: a second apply plans again
        return len(changed)

    def fresh_cost(self, plan: Plan) -> dict[str, float]:
        """``plan``'s estimated total by currency, computed again now (today's prices), counting
        the resources whose estimate the plan had; an approval's cap holds against it."""
        from .plan.budget import summarize
        from .plan.planner import Planner

        assert self.runtime is not None and self.store is not None
        priced = {a.address for a in plan.actions if a.cost is not None}
        planner = Planner(self.mission, self.runtime, self.store, today=self.options.today)
        again = planner.plan(
            mode=plan.mode,
            targets=plan.targets,
            do_refresh=False,
            parallelism=self.options.parallelism,
            allow_forget=self.options.allow_forget,
            excludes=plan.excludes,
        )
        return summarize([a for a in again.actions if a.address in priced]).totals

    def apply(
        self,
        plan: Plan,
        *,
        acknowledged: bool = False,
        approval: ApprovalSource | None = None,
        interrupt_handle: Callable[[Scheduler], None] | None = None,
    ) -> ApplyOutcome:
        """Carry out ``plan`` under the mission's lock; raise ApplyFailed when anything failed.

        The plan passes the gate first (:meth:`admit`, with ``acknowledged`` and ``approval``)
        unless it was admitted just before; nothing is sent when it is refused.
        """
        import socket

        from .apply.scheduler import Scheduler
        from .plan.relocation import relocated as relocated_records
        from .state.base import Event

        assert self.runtime is not None and self.store is not None
        store, name = self.store, self.mission.name
        operation = "destroy" if plan.mode == "destroy" else "apply"
        make_executor = self._executor_factory()  # an unknown --executor fails before anything is written
        with self.holding_lock(operation):
            self.check_fresh(plan)
            self.check_mode()
            admitted, self._admitted = self._admitted, None  # an admission lets one apply through
            if admitted is None or admitted.plan is not plan:
                self.admit(plan, acknowledged=acknowledged, approval=approval)
                self._admitted = None
            started = time.time()
            # check_fresh passed under the lock: the state is still the one this plan was
            # made from, so the records the planner read are current
            planned, self._planned = self._planned, None
            # values recorded in another checkout's (or an older version's) form are written in
            # today's, all of a mission's records at once, before any of them is acted on
            records, relocated = (
                planned[2]
                if planned is not None and planned[0] is plan
                else relocated_records(store.resources(name), self.runtime)
            )
            store.write(
                name,
                relocated,
                [
                    Event(
                        EventKind(f"{operation}_started"),
                        data={
                            "actions": plan.counts(),
                            "host": socket.gethostname(),
                            "pid": os.getpid(),
                            "provenance": self._provenance(plan),
                        },
                        at=started,
                    )
                ],
                # "sandbox" is recorded only for sandbox runs (None removes it)
                mission_update={
                    "spec_digest": self.mission.digest,
                    "attributes": {**self.options.attributes, "sandbox": True if self.options.sandbox else None},
                },
            )
            if plan.mode == "refresh-only":
                outcome = self._accept_drift(plan)
            else:
                hook = self.registry.hooks.resource_transition
                scheduler = Scheduler(
                    self.mission,
                    plan,
                    self.runtime,
                    store,
                    self.emit,
                    parallelism=self.options.parallelism,
                    fail_fast=self.options.fail_fast,
                    detach=self.options.detach,
                    time_scale=self._time_scale(),
                    observer=lambda a, t, b, af, d: hook(mission=name, address=a, type=t, before=b, after=af, detail=d),
                    executor=make_executor,
                    records=records,
                )
                if interrupt_handle is not None:
                    interrupt_handle(scheduler)
                outcome = scheduler.run()
            outputs = self._mission_outputs()
            result = {
                "ok": outcome.ok,
                "counts": plan.counts(),
                "failed": sorted(outcome.failed),
                "skipped": outcome.skipped,
                "detached": outcome.detached,
                "interrupted": outcome.interrupted,
                "seconds": round(time.time() - started, 3),
            }
            store.write(
                name,
                [],
                [Event(EventKind(f"{operation}_finished"), data=result, at=time.time())],
                mission_update={"outputs": outputs},
            )
            self._backup_state()
            self._observe(
                "skyform_apply_finished", lambda: self.registry.hooks.apply_finished(mission=name, result=result)
            )
            if self.mission.settings.get("catalog") and plan.mode == "apply":
                self._publish_catalog(str(self.mission.settings["catalog"]))
        return outcome

    def _executor_factory(self) -> Callable[[Runtime, int], Any]:
        """The ``--executor`` the scheduler makes its executor with (a skyform_executors plugin)."""
        from .apply.executor import ExecutorContext
        from .errors import UsageError

        backends = self.registry.executors
        backend = backends.get(self.options.executor)
        if backend is None:
            if self.options.executor != "local":
                known = ", ".join(sorted(backends)) or "none"
                raise UsageError(
                    f"no executor named {self.options.executor!r}; installed: {known}",
                    hint="executors come from skyform_executors plugins (docs/plugins.md)",
                )
            # plugins registered in process only (tests, embedding): the engine's own default
            from .apply.plugin import LOCAL

            backend = LOCAL
        assert self.store is not None
        store, emit, options = (
            self.store,
            self.emit,
            {"broker": self.options.broker, "worker_timeout": self.options.worker_timeout},
        )
        return lambda runtime, parallelism: backend.open(ExecutorContext(runtime, parallelism, store, emit, options))

    def _backup_state(self) -> None:
        """Copy the state as this run left it (SQLite: state.db.backup), so a file damaged
        later - a full disk, a bad copy - can be restored; a failed copy is a warning, since
        the run's own records are safely written."""
        assert self.store is not None
        from .errors import StateError

        try:
            self.store.backup()
        except StateError as exc:
            self.emit({"event": EventKind.WARNING, "message": f"the state backup was not refreshed: {exc.message}"})

    def _publish_catalog(self, destination: str) -> None:
        """``settings.catalog``: rewrite the STAC catalog; a failure is a warning, the apply stands."""
        from .catalog import collect, publish
        from .errors import SkyformError

        assert self.store is not None
        try:
            lineage = collect(self.store, self.mission.name, self.registry.resolve_type)
            where = publish(lineage, destination, self.mission.directory)
        except SkyformError as exc:
            self.emit(
                {
                    "event": EventKind.WARNING,
                    "message": f"the STAC catalog was not written: {exc.message}"
                    + (f" ({exc.hint})" if exc.hint else ""),
                }
            )
            return
        self.emit({"event": EventKind.CATALOG, "path": where, "items": len(lineage.products)})

    def _provenance(self, plan: Plan) -> dict[str, Any]:
        """What this run's products will name as their origin (``skyform catalog``, ``provenance``)."""
        import hashlib
        import json

        from .catalog.commit import head_commit
        from .catalog.lineage import provenance_block

        digest = hashlib.sha256(json.dumps(plan.to_json(), sort_keys=True, default=str).encode()).hexdigest()
        used = {a.type.split(".", 1)[0] for a in plan.actions}
        versions = {p: self.registry.providers[p].version for p in used if p in self.registry.providers}
        commit = str(self.options.attributes.get("commit") or "") or head_commit(self.mission.directory)
        return provenance_block(f"sha256:{digest}", self.mission.digest, commit, versions)

    def _time_scale(self) -> float:
        """Real seconds per service second: 1, or the sandbox clock's inverse."""
        if self.sandbox is None:
            return 1.0
        from .sandbox.clock import SimClock

        return 1.0 / SimClock().factor

    def _accept_drift(self, plan: Plan) -> ApplyOutcome:
        assert self.store is not None
        from .apply.node import ApplyOutcome
        from .plan.refresh import refresh as do_refresh
        from .spec.values import sealed
        from .state.base import Event

        records = self.store.resources(self.mission.name)
        assert self.runtime is not None  # opened with the store
        seen = do_refresh(self.runtime, records, self.options.parallelism)
        writes = []
        for address, ob in seen.items():
            if ob.result is not None and ob.result.observed is not None:
                rs = records[address]
                rs.observed = sealed(ob.result.observed, like=rs.observed)
                # the service's values become the recorded applied ones, so the next plan shows
                # where the spec differs from them (Terraform's refresh-only semantics)
                rs.spec = {**rs.spec, **{k: v for k, v in rs.observed.items() if k in rs.spec}}
                if ob.result.outputs:
                    rs.outputs = sealed(ob.result.outputs, like=rs.outputs)
                writes.append(rs)
        self.store.write(
            self.mission.name, writes, [Event(EventKind.REFRESH, data={"resources": len(writes)}, at=time.time())]
        )
        return ApplyOutcome(done=[w.address for w in writes])

    def output_errors(self) -> list[Diagnostic]:
        """The mission's outputs whose path names nothing in the recorded state (read only)."""
        self._mission_outputs()
        return list(self.output_problems)

    def _mission_outputs(self) -> dict[str, Any]:
        assert self.store is not None
        from .spec.values import Unknown, sealed
        from .validate.scope import Scope

        self.output_problems = []
        if not self.mission.outputs:
            return {}  # most missions: no need to read the whole state once more
        records = self.store.resources(self.mission.name)
        scope = Scope(self.mission, self.secrets, {a: r.outputs for a, r in records.items() if r.status == "ready"})
        out: dict[str, Any] = {}
        for name, value in self.mission.outputs.items():
            problems: list[Diagnostic] = []
            resolved = scope.resolve_at(value, ("outputs", name), problems, "mission")
            if problems:  # a path that does not exist is an error, never a silent null
                self.output_problems += problems
                continue
            out[name] = None if isinstance(resolved, Unknown) else sealed(resolved)
        return out


def outcome_error(outcome: ApplyOutcome, output_problems: list[Diagnostic] | None = None) -> SkyformError | None:
    """The error to raise for an outcome (failed resources first, then outputs that could
    not be resolved, exit 3), or None when it succeeded."""
    if outcome.failed:
        listing = "; ".join(f"{a}: {m}" for a, m in sorted(outcome.failed.items()))
        return ApplyFailed(f"{len(outcome.failed)} resource(s) failed: {listing}")
    if output_problems:
        return SpecError(output_problems)
    return None
