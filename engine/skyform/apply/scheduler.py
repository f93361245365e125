"""Apply: a scheduler walking the plan's graph, not a thread per node.

Short provider calls (create, adopt, update, delete, one poll, cancel) run on a bounded
worker pool (global ``parallelism`` and each provider's own limit). Waiting for a remote
job is a timer in this loop, never a sleeping thread, so thousands of jobs can be tracked
at once. Every state transition is written by this loop's thread before the next call
that depends on it: the create intent (with its idempotency key) is durable *before* the
create request is sent, so a process killed at any instant leaves either nothing, an
intent that the next run adopts, or the finished record.

Transient errors are retried with exponential backoff and jitter (Retry-After honoured)
up to ``lifecycle.retries``; a create retried after a transient failure adopts first,
because the failed request may have reached the service. Permanent errors fail the node
at once; its dependents are skipped, independent branches finish.
"""

from __future__ import annotations

import dataclasses
import heapq
import logging
import os
import queue
import random
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .. import redact
from ..errors import Diagnostic, PermanentError, RemoteError, SkyformError, SpecError, TransientError
from ..spec.mission import Mission
from ..plan.model import Action, Plan
from ..plan.planner import LIFECYCLE_KEY, to_record
from ..providers.base import Change, OperationContext, Record, Reporter, ResourceKind, Result
from ..runtime import Runtime
from .journal import Journal
from .retry import backoff
from ..state.base import Removal, ResourceState, StateStore
from ..validate.checks import issue_diagnostics, kind_validator, schema_diagnostics
from ..validate.scope import Scope, references
from ..spec.values import is_known, sealed, to_storable
from ..providers.base import CheckContext

Emit = Callable[[dict[str, Any]], None]
log = logging.getLogger("skyform.apply")
# Idempotency keys must be unique, not secret: one seed from the OS per process, then a
# fast generator (os.urandom per key is measurably slow on some virtual machines).
_KEYS = random.Random(os.urandom(32))


MIN_SANDBOX_POLL = 0.05
COALESCE = 0.0005


def new_key() -> str:
    """A random UUID4 string for an idempotency key."""
    return str(uuid.UUID(int=_KEYS.getrandbits(128), version=4))


@dataclass
class Node:
    """One action being carried out."""

    action: Action
    record: ResourceState | None
    waits_for: set[str]
    state: str = "pending"  # pending, inflight, waiting, done, failed, skipped, detached
    step: str = ""
    attempts: int = 0
    poll_failures: int = 0
    spec: Any = None
    interval: float = 0.0
    deadline: float | None = None
    started: float = 0.0
    error: str | None = None
    recheck: bool = False
    polled: bool = False
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class ApplyOutcome:
    """What an apply achieved."""

    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    detached: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted


class _NodeReporter(Reporter):
    def __init__(self, scheduler: "Scheduler", address: str) -> None:
        self.scheduler, self.address = scheduler, address

    def progress(self, fraction: float | None, message: str = "") -> None:
        self.scheduler.inbox.put(("progress", self.address, (fraction, message)))

    def warn(self, message: str) -> None:
        self.scheduler.inbox.put(("warning", self.address, message))


class Scheduler:
    """Carries out a plan (see the module docstring)."""

    def __init__(
        self, mission: Mission, plan: Plan, runtime: Runtime, store: StateStore, emit: Emit, *,
        parallelism: int = 10, fail_fast: bool = False, detach: bool = False, time_scale: float = 1.0,
        observer: Callable[[str, str, str | None, str, dict[str, Any]], None] | None = None,
        records: dict[str, ResourceState] | None = None,
    ) -> None:
        self.mission, self.plan, self.runtime, self.store = mission, plan, runtime, store
        self.journal = Journal(store, mission.name, emit, observer)
        self.emit = emit
        self.parallelism = max(1, parallelism)
        self.fail_fast, self.detach = fail_fast, detach
        # the sandbox's clock runs faster than real time: so do its poll intervals
        self.time_scale = time_scale
        self.inbox: queue.Queue[tuple[str, str, Any]] = queue.Queue()
        self.timers: list[tuple[float, int, str, str]] = []
        self._seq = 0
        self.interrupted = False
        # the records the plan was made from, when the caller still holds them and the state
        # has not moved since (one read of the state per command); else read now
        self.records = records if records is not None else store.resources(mission.name)
        self.outputs: dict[str, Any] = {a: rs.outputs for a, rs in self.records.items()}
        self.inflight = 0
        self.inflight_by_provider: dict[str, int] = {}
        self.nodes: dict[str, Node] = {}
        self.dependents: dict[str, list[str]] = {}
        self.unmet: dict[str, int] = {}
        self.ready: deque[str] = deque()
        self.to_submit: list[Callable[[], None]] = []
        self.references = references(mission)  # resource id -> ids its spec refers to
        self._build()

    # -- set-up ---------------------------------------------------------------------------
    def _build(self) -> None:
        planned = {a.address for a in self.plan.actions}
        changing = {a.address for a in self.plan.actions if a.action in ("create", "update", "replace", "resume")}
        # delete a resource after everything recorded as depending on it is deleted: an index
        # from each resource to the deletions that depend on it (a scan per deletion was
        # O(N) per node, O(N^2) for a destroy)
        deleted_after: dict[str, set[str]] = {}
        for d in self.plan.actions:
            if d.action in ("delete", "forget") and d.address in self.records:
                for dep in self.records[d.address].depends_on:
                    deleted_after.setdefault(dep, set()).add(d.address)
        for action in self.plan.actions:
            record = self.records.get(action.address)
            if action.action in ("delete", "forget"):
                waits = set(deleted_after.get(action.address, ()))
            else:
                waits = {d for d in action.depends_on if d in planned}
            node = Node(action, record, waits)
            if action.address in self.mission.resources:
                node.recheck = bool(self._refs(action.address) & changing)
            self.nodes[action.address] = node
        for address, node in self.nodes.items():
            self.unmet[address] = len(node.waits_for)
            for dep in node.waits_for:
                self.dependents.setdefault(dep, []).append(address)
            if not node.waits_for:
                self.ready.append(address)

    def _refs(self, address: str) -> set[str]:
        return self.references.get(address, set())

    # -- the loop -------------------------------------------------------------------------
    def interrupt(self) -> None:
        """First Ctrl-C: stop dispatching; in-flight calls finish and are recorded."""
        self.interrupted = True

    def run(self) -> ApplyOutcome:
        workers = ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="skyform")
        self.pool = workers
        try:
            self._loop()
        finally:
            self.journal.flush()
            workers.shutdown(wait=True)
        return self._outcome()

    def _loop(self) -> None:
        while True:
            self._dispatch_ready()
            self.journal.flush()  # intents are durable before their calls leave
            self._launch()
            if self.inflight == 0 and (self.interrupted or not self._has_work()):
                return
            timeout = None
            if self.timers and not self.interrupted:
                timeout = max(0.0, self.timers[0][0] - time.monotonic())
            try:
                item = self.inbox.get(timeout=timeout if timeout is not None else (0.2 if self.interrupted else 1.0))
            except queue.Empty:
                item = None
            while item is not None:
                self._handle(*item)
                try:
                    item = self.inbox.get_nowait()
                except queue.Empty:
                    # calls finishing together share one state transaction: wait a moment
                    # for them when more are in flight (0.5 ms, far below any service's latency)
                    item = None
                    if self.inflight and not self.interrupted:
                        try:
                            item = self.inbox.get(timeout=COALESCE)
                        except queue.Empty:
                            item = None
            self._fire_timers()

    def _has_work(self) -> bool:
        return bool(self.timers or self.ready or self.to_submit)

    def _continue_on_failure(self, address: str) -> bool:
        resource = self.mission.resources.get(address)
        return bool(resource and resource.lifecycle.on_failure == "continue")

    def _dispatch_ready(self) -> None:
        if self.interrupted:
            return
        deferred: list[str] = []
        while self.ready:
            address = self.ready.popleft()
            node = self.nodes[address]
            if node.state != "pending":
                continue
            if not self._has_capacity(node):
                deferred.append(address)
                if self.inflight >= self.parallelism:
                    break
                continue
            self._start(node)
        self.ready.extendleft(reversed(deferred))

    def _settle(self, node: Node) -> None:
        """Release or skip the dependents of a node that reached a final state."""
        address = node.action.address
        passed = node.state == "done" or (node.state == "failed" and self._continue_on_failure(address))
        for dependent in self.dependents.get(address, ()):
            child = self.nodes[dependent]
            if child.state != "pending":
                continue
            if passed:
                self.unmet[dependent] -= 1
                if self.unmet[dependent] == 0:
                    self.ready.append(dependent)
            else:
                self._skip(child, f"{address} did not finish")

    def _finish(self, node: Node, state: str) -> None:
        node.state = state
        self._settle(node)

    def _provider(self, node: Node) -> str:
        return node.action.type.partition(".")[0]

    def _has_capacity(self, node: Node) -> bool:
        if node.action.action == "noop":
            return True
        if self.inflight >= self.parallelism:
            return False
        limit = self.runtime.registry.providers.get(self._provider(node))
        cap = limit.parallelism if limit is not None else None
        return cap is None or self.inflight_by_provider.get(self._provider(node), 0) < cap

    # -- steps ----------------------------------------------------------------------------
    def _start(self, node: Node) -> None:
        a = node.action
        node.started = time.monotonic()
        if a.blocked:
            return self._fail(node, a.blocked)
        if a.action == "noop":
            if a.state_only and node.record is not None:
                node.record.private = {**node.record.private, LIFECYCLE_KEY: self._lifecycle(a.address)}
                self.journal.put(node.record)
            return self._finish(node, "done")
        if a.action in ("delete", "forget"):
            return self._begin_delete(node)
        if a.action == "resume":
            node.spec = to_record(node.record).spec if node.record else None
            return self._begin_wait(node, immediately=True)
        if a.action == "replace" and node.record is not None and node.record.remote_id:
            return self._begin_delete(node, then_create=True)
        if a.action in ("create", "replace"):
            return self._begin_create(node)
        if a.action == "update":
            return self._begin_update(node)

    def _resolve(self, node: Node) -> Any:
        resource = self.mission.resources[node.action.address]
        problems: list[Diagnostic] = []
        scope = Scope(self.mission, self.runtime.secrets, self.outputs, require_secrets=True,
                      registry=self.runtime.registry)
        spec = scope.resolve_at(resource.spec, ("resources", resource.id, "spec"), problems, resource.type)
        if problems:
            raise SpecError(problems)
        if not is_known(spec):
            raise PermanentError(f"{resource.id}: a value is still unknown after its dependencies were applied")
        if node.recheck:
            _, kind = self.runtime.kind(resource.type)
            base = ("resources", resource.id, "spec")
            found = schema_diagnostics(kind_validator(kind), spec, self.mission.document, base, resource.type)
            from datetime import date

            found += issue_diagnostics(kind.check(spec, CheckContext(date.today(), self.mission.directory, resource.id)),
                                       self.mission.document, base, resource.type)
            if [d for d in found if d.severity == "error"]:
                raise SpecError(found, message=f"{resource.id}: resolved values are invalid")
        return spec

    def _begin_create(self, node: Node) -> None:
        a = node.action
        try:
            node.spec = self._resolve(node)
        except SkyformError as exc:
            return self._fail(node, _describe(exc))
        rec = node.record
        resume_intent = rec is not None and (rec.status == "creating" or a.adopt_first) and rec.remote_id is None
        key = rec.idempotency_key if resume_intent and rec else new_key()
        intent_at = rec.intent_at if resume_intent and rec else time.time()
        node.record = self._record(a, status="creating", key=key, intent_at=intent_at, spec=node.spec,
                                   remote_id=None, outputs={}, base=None)
        self._transition(node, rec.status if rec else None, "creating", {"idempotency_key": key})
        adopt_first = resume_intent or node.attempts > 0
        self._submit(node, "create", lambda ctx: self._op_create(node, ctx, adopt_first))

    def _op_create(self, node: Node, ctx: OperationContext, adopt_first: bool) -> tuple[str, Result]:
        _, kind = self.runtime.kind(node.action.type)
        if node.recheck:
            issues = [i for i in kind.plan_check(node.spec, ctx) if i.severity == "error"]
            if issues:
                found = issue_diagnostics(issues, self.mission.document, ("resources", node.action.address, "spec"),
                                          node.action.type)
                raise PermanentError("; ".join(str(d) for d in found))
        if adopt_first:
            adopted = kind.adopt(node.spec, ctx)
            if adopted is not None:
                return "adopted", adopted
        return "created", kind.create(node.spec, ctx)

    def _begin_update(self, node: Node) -> None:
        try:
            node.spec = self._resolve(node)
        except SkyformError as exc:
            return self._fail(node, _describe(exc))
        _, kind = self.runtime.kind(node.action.type)
        assert node.record is not None  # updates are planned only for recorded resources
        record = to_record(node.record)
        changes = [Change(c.path, c.before, c.after) for c in node.action.changes + node.action.drift]
        self._transition(node, "ready", "updating", {})
        self._submit(node, "update", lambda ctx: ("updated", kind.update(record, node.spec, changes, ctx)))

    def _begin_delete(self, node: Node, then_create: bool = False) -> None:
        rec = node.record
        if rec is None:
            return self._finish(node, "done")
        if node.action.action == "forget":
            self.journal.put(Removal(rec.address))
            self._transition(node, rec.status, "forgotten", {})
            return self._finish(node, "done")
        rec.status = "deleting"
        rec.updated_at = time.time()
        self.journal.put(rec)
        self._transition(node, "ready", "deleting", {})
        _, kind = self.runtime.kind(rec.type)
        record = to_record(rec)
        # kinds whose objects go with their parent, or that the API cannot delete (the plan
        # only gets here with --forget), are dropped from state without a remote call
        remote_delete = kind.delete_mode == "delete"

        def op(ctx: OperationContext) -> tuple[str, Any]:
            target = record
            if remote_delete and target.remote_id is None and target.idempotency_key:
                # an interrupted create may have made the object: find it before forgetting
                found = kind.adopt(target.spec, ctx)
                if found is not None and found.remote_id:
                    target = dataclasses.replace(target, remote_id=found.remote_id, private=found.private)
            if remote_delete and target.remote_id is not None:
                kind.delete(target, ctx)
            return ("deleted_then_create" if then_create else "deleted"), None

        self._submit(node, "delete", op)

    def _begin_wait(self, node: Node, immediately: bool = False, poll_after: float | None = None) -> None:
        _, kind = self.runtime.kind(node.action.type)
        resource = self.mission.resources.get(node.action.address)
        if node.deadline is None and resource is not None and resource.lifecycle.timeout:
            since = node.record.intent_at if node.record else time.time()
            # lifecycle.timeout is service time: against the sandbox's accelerated clock a 6h
            # timeout passes in 6 s (at 3600x), as the jobs it limits do (docs/sandbox.md)
            limit = resource.lifecycle.timeout * self.time_scale
            node.deadline = time.monotonic() + max(0.0, limit - (time.time() - since))
        if self.detach:
            return self._finish(node, "detached")
        node.state = "waiting"
        if not node.interval:
            node.interval = kind.poll_interval
        delay = 0.0 if immediately else (poll_after if poll_after is not None else node.interval)
        if self.time_scale != 1.0 and delay:
            delay = max(delay * self.time_scale, MIN_SANDBOX_POLL)
        if node.deadline is not None:
            delay = min(delay, max(0.0, node.deadline - time.monotonic()))
        self._timer(delay, node.action.address, "poll")
        if poll_after is None and not immediately:
            node.interval = min(node.interval * 1.5, kind.max_poll_interval)

    def _timer(self, delay: float, address: str, what: str) -> None:
        self._seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self._seq, address, what))

    def _fire_timers(self) -> None:
        now = time.monotonic()
        # polls wait while the pool is full: new work first, and a bounded poll rate for many jobs
        while self.timers and self.timers[0][0] <= now and not self.interrupted and self.inflight < self.parallelism:
            _, _, address, what = heapq.heappop(self.timers)
            node = self.nodes[address]
            if what == "retry":
                node.state = "pending"
                self.ready.append(address)
                continue
            if what == "cancel":
                self._cancel_for_timeout(node)
                continue
            if node.deadline is not None and now >= node.deadline and node.polled:
                self._cancel_for_timeout(node)  # only once a poll has seen it still running
                continue
            node.polled = True
            _, kind = self.runtime.kind(node.action.type)
            assert node.record is not None  # polls follow a create, an update or a recorded running job
            record = to_record(node.record)
            node.state = "inflight"

            def poll(ctx: OperationContext, k: ResourceKind = kind, r: Record = record) -> tuple[str, Result]:
                return "polled", k.poll(r, ctx)

            self._submit(node, "poll", poll)

    def _cancel_for_timeout(self, node: Node) -> None:
        _, kind = self.runtime.kind(node.action.type)
        assert node.record is not None  # only a job that was submitted (and recorded) times out
        record = to_record(node.record)
        resource = self.mission.resources.get(node.action.address)
        limit = resource.lifecycle.timeout if resource else None
        node.error = f"timed out after {_duration(limit or 0)}; the remote job was cancelled"

        def op(ctx: OperationContext) -> tuple[str, Any]:
            kind.cancel(record, ctx)
            return "cancelled", None

        self._submit(node, "cancel", op)

    # -- running operations ---------------------------------------------------------------
    def _submit(self, node: Node, step: str, fn: Callable[[OperationContext], Any]) -> None:
        node.state = "inflight"
        node.step = step
        rec = node.record
        key = rec.idempotency_key if rec else ""
        intent_at = rec.intent_at if rec else time.time()
        resource = self.mission.resources.get(node.action.address)
        lifecycle = resource.lifecycle.as_dict() if resource else {}
        provider = self._provider(node)
        self.inflight += 1
        self.inflight_by_provider[provider] = self.inflight_by_provider.get(provider, 0) + 1
        address = node.action.address
        type_name = node.action.type
        reporter = _NodeReporter(self, address)

        def work() -> None:
            try:
                ctx = self.runtime.context(address, type_name, idempotency_key=key, intent_at=intent_at,
                                           lifecycle=lifecycle, reporter=reporter)
                self.inbox.put(("done", address, fn(ctx)))
            except BaseException as exc:  # handed to the loop, which decides
                self.inbox.put(("error", address, exc))

        self.to_submit.append(work)

    def _launch(self) -> None:
        """Hand queued calls to the pool (after the loop flushed their intents)."""
        work, self.to_submit = self.to_submit, []
        for fn in work:
            self.pool.submit(fn)

    def _handle(self, what: str, address: str, payload: Any) -> None:
        node = self.nodes[address]
        if what == "progress":
            fraction, message = payload
            self.emit({"event": "progress", "address": address, "fraction": fraction, "message": message})
            return
        if what == "warning":
            self.journal.warning(address, str(payload))
            return
        self.inflight -= 1
        provider = self._provider(node)
        self.inflight_by_provider[provider] -= 1
        if what == "error":
            return self._on_error(node, payload)
        outcome, result = payload
        if outcome in ("created", "adopted", "updated", "polled"):
            return self._on_result(node, outcome, result)
        if outcome == "deleted":
            self.journal.put(Removal(address))
            self._transition(node, "deleting", "deleted", {})
            self.outputs.pop(address, None)
            self._finish(node, "done")
        elif outcome == "deleted_then_create":
            self.journal.put(Removal(address))
            self._transition(node, "deleting", "deleted", {})
            node.record = None
            self._begin_create(node)
        elif outcome == "cancelled":
            self._fail(node, node.error or "cancelled")

    def _on_result(self, node: Node, outcome: str, result: Result) -> None:
        rec = node.record
        assert rec is not None
        before = rec.status
        if result is None:
            return self._fail(node, "the remote object disappeared while waiting for it")
        rec.remote_id = result.remote_id or rec.remote_id
        previous = rec.outputs
        if result.outputs or outcome != "polled":
            rec.outputs = sealed(result.outputs, like=rec.outputs) if result.outputs else rec.outputs
        if result.observed is not None:
            # what the service reports of a field the spec filled from a secret is secret too
            applied = to_storable(node.spec) if outcome in ("created", "adopted", "updated") else None
            rec.observed = sealed(result.observed, like=applied if isinstance(applied, dict) else rec.observed)
        rec.private = {**rec.private, **result.private, LIFECYCLE_KEY: self._lifecycle(node.action.address)}
        if outcome == "created" and rec.status != "ready":
            # a job's clock (lifecycle.timeout) starts when it is submitted, not at an old intent
            rec.intent_at = time.time()
        if outcome in ("created", "adopted", "updated"):
            rec.spec = to_storable(node.spec)
        rec.status = "running" if result.status == "running" else ("failed" if result.status == "failed" else "ready")
        rec.error = result.message if result.status == "failed" else None
        rec.updated_at = time.time()
        self.journal.put(rec)
        detail: dict[str, Any] = {"outcome": outcome}
        if rec.remote_id:
            detail["remote_id"] = rec.remote_id
        if result.cost:
            detail["cost"] = str(result.cost)
        if result.progress is not None:
            detail["progress"] = result.progress
        if result.message and result.status != "failed":
            detail["message"] = redact.redact(result.message)
        if rec.status == "failed":
            detail["error"] = redact.redact(result.message or "the remote job failed")
        moved = self._moved_stable_outputs(node, previous, rec.outputs) if outcome == "updated" else []
        if moved:
            # the plan showed dependents these values: carrying on with them would apply
            # something the plan did not show (state above already records the update)
            self.outputs[node.action.address] = rec.outputs
            return self._fail(node, f"the update changed output(s) {', '.join(moved)}, which {node.action.type} "
                                    "declares stable across updates (a provider bug); what uses them was planned "
                                    "with the old values and is not applied: run plan again", write=False)
        if before != rec.status or outcome != "polled":
            self._transition(node, before, rec.status, detail)
        elif result.progress is not None or result.message:
            self.emit({"event": "progress", "address": node.action.address, "fraction": result.progress,
                       "message": redact.redact(result.message or "")})
        node.poll_failures = 0
        if rec.status == "ready":
            self.outputs[node.action.address] = rec.outputs
            self._finish(node, "done")
        elif rec.status == "failed":
            self._fail(node, result.message or "the remote job failed", write=False, announced=True)
        else:
            self._begin_wait(node, poll_after=result.poll_after)

    def _moved_stable_outputs(self, node: Node, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
        """Outputs the plan kept across this update (``ResourceKind.kept_outputs``) that it changed."""
        _, kind = self.runtime.kind(node.action.type)
        changes = [Change(c.path, c.before, c.after) for c in node.action.changes + node.action.drift]
        kept = kind.kept_outputs(before, changes)
        return sorted(name for name, value in kept.items() if name in after and after[name] != value)

    def _on_error(self, node: Node, exc: BaseException) -> None:
        if not isinstance(exc, Exception):
            raise exc
        retries = self._retries(node)
        if isinstance(exc, TransientError):
            if node.step == "poll":
                node.poll_failures += 1
                if node.poll_failures <= max(retries, 5):
                    self._event_retry(node, exc, node.poll_failures)
                    node.state = "waiting"
                    self._timer(self._backoff(node.poll_failures, exc.retry_after), node.action.address, "poll")
                    return
            elif node.attempts < retries:
                node.attempts += 1
                self._event_retry(node, exc, node.attempts)
                self._retry_step(node, self._backoff(node.attempts, exc.retry_after))
                return
        if isinstance(exc, RemoteError) and exc.remote_id and node.record is not None and not node.record.remote_id:
            node.record.remote_id = exc.remote_id
        prefix = ""
        if isinstance(exc, RemoteError) and exc.field:
            # a service named the offending field: point at it in the mission file
            path = [int(p) if p.isdigit() else p for p in str(exc.field).split(".")]
            where = self.mission.locate("resources", node.action.address, "spec", *path)
            if where is not None:
                prefix = f"{where}: resources.{node.action.address}.spec.{exc.field}: "
        if not isinstance(exc, SkyformError):
            # a provider bug, or an answer the provider did not expect: the resource fails
            # with a one-line message; the traceback goes to the debug log (-vv)
            log.debug("%s: %s failed", node.action.address, node.step, exc_info=exc)
            self._fail(node, prefix + f"{node.action.type} failed unexpectedly: {type(exc).__name__}: "
                       f"{redact.redact(str(exc))[:300]} (a provider bug or an unexpected answer from the "
                       "service; -vv shows the traceback)")
            return
        self._fail(node, prefix + _describe(exc))

    def _retry_step(self, node: Node, delay: float) -> None:
        step = node.step
        if step == "cancel":  # repeat the cancel itself; the job must not be submitted again
            node.state = "waiting"
            self._timer(delay, node.action.address, "cancel")
            return
        if step == "create":
            node.action.adopt_first = True
            node.state = "retry"
            self._timer(delay, node.action.address, "retry")
            node.action.action = "create" if node.action.action != "replace" or node.record is None else "replace"
        else:
            node.state = "retry"
            self._timer(delay, node.action.address, "retry")
        # "retry" timers put the node back to pending; its step starts again from the record
        if step in ("delete",) and node.record is not None:
            node.record.status = "ready"

    def _retries(self, node: Node) -> int:
        resource = self.mission.resources.get(node.action.address)
        return resource.lifecycle.retries if resource else 3

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        return backoff(attempt, retry_after)

    def _event_retry(self, node: Node, exc: TransientError, attempt: int) -> None:
        self.emit({"event": "retry", "address": node.action.address, "attempt": attempt,
                   "retry_after": exc.retry_after, "message": redact.redact(str(exc))})

    def _fail(self, node: Node, message: str, write: bool = True, announced: bool = False) -> None:
        message = redact.redact(message)
        node.error = message
        rec = node.record
        if write and rec is not None and node.step == "update":
            # the object itself is fine: keep it ready with its old applied spec, so the next
            # plan proposes the update again instead of replacing a healthy object
            rec.status = "ready"
            rec.error = message
            rec.updated_at = time.time()
            self.journal.put(rec)
            self._transition(node, "updating", "failed", {"error": message})
        elif write and rec is not None and node.action.action not in ("delete", "forget"):
            before = rec.status
            rec.status = "failed"
            rec.error = message
            rec.updated_at = time.time()
            self.journal.put(rec)
            self._transition(node, before, "failed", {"error": message})
        elif write and rec is not None:
            rec.status = "ready" if rec.status == "deleting" else rec.status
            self.journal.put(rec)
            self.emit({"event": "transition", "address": node.action.address, "before": "deleting",
                       "after": "failed", "error": message})
        elif not announced:
            self.emit({"event": "transition", "address": node.action.address, "before": None, "after": "failed",
                       "error": message})
        self._finish(node, "failed")
        if self.fail_fast:
            self.interrupted = True

    def _skip(self, node: Node, why: str) -> None:
        node.error = why
        self.emit({"event": "skipped", "address": node.action.address, "reason": why})
        self._finish(node, "skipped")

    # -- state ----------------------------------------------------------------------------
    def _lifecycle(self, address: str) -> dict[str, Any]:
        """The lifecycle options the state keeps (they decide on deletes after the spec is gone)."""
        resource = self.mission.resources.get(address)
        return {"prevent_destroy": bool(resource and resource.lifecycle.prevent_destroy)}

    def _record(self, a: Action, *, status: str, key: str, intent_at: float, spec: Any, remote_id: str | None,
                outputs: dict[str, Any], base: ResourceState | None) -> ResourceState:
        private = {LIFECYCLE_KEY: self._lifecycle(a.address)}
        now = time.time()
        rs = ResourceState(address=a.address, type=a.type, status=status, idempotency_key=key, intent_at=intent_at,
                           remote_id=remote_id, spec=to_storable(spec), outputs=outputs, observed={}, private=private,
                           depends_on=list(a.depends_on), created_at=now, updated_at=now)
        self.journal.put(rs)
        return rs

    def _transition(self, node: Node, before: str | None, after: str, detail: dict[str, Any]) -> None:
        self.journal.transition(node.action.address, node.action.type, before, after, detail)

    def _outcome(self) -> ApplyOutcome:
        out = ApplyOutcome(interrupted=self.interrupted and not self.fail_fast)
        for address, node in self.nodes.items():
            if node.state == "done":
                out.done.append(address)
            elif node.state == "failed":
                out.failed[address] = node.error or "failed"
            elif node.state == "detached":
                out.detached.append(address)
            elif node.state in ("skipped", "pending", "retry"):
                out.skipped.append(address)
            elif node.state == "waiting":
                out.detached.append(address)
        return out


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SpecError):
        return "; ".join(str(d) for d in exc.diagnostics)
    text = str(exc) if str(exc) else type(exc).__name__
    hint = getattr(exc, "hint", None)
    return redact.redact(text + (f" ({hint})" if hint else ""))


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s or not (h or m) else "")
