"""Planning: refresh what state knows, then diff desired against recorded, as a pure step.

Reading (:mod:`.refresh`) touches the services; deciding (``decide``) is a pure function of the
desired resources, the recorded state and the observations, and yields one :class:`Action`
per resource, each no-op with its reason. Only the scheduler acts.

Longer than 400 lines because the decision is one pure function over many cases (create,
update, replace, resume, drift, orphans, destroy, prevent_destroy, stable outputs) that
reads best in one place; the formatter's layout took it past the limit. The next split:
the orphan/destroy half into ``plan/removal.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from .. import graph
from ..errors import Diagnostic, PlanRefused, RemoteError, SkyformError, SpecError
from ..providers.base import ALL_FIELDS, DEFAULT_PARALLELISM, Change, ResourceKind
from ..retrying import with_retries
from ..runtime import Runtime
from ..spec.mission import Lifecycle, Mission
from ..spec.values import Unknown, sealed, to_storable
from ..state.base import ResourceState, StateStore
from ..state.records import LIFECYCLE_KEY, to_record
from ..state.spend import so_far
from ..validate.checks import issue_diagnostics
from ..validate.scope import Scope
from .budget import breaches, mission_breaches, other_currencies, summarize
from .irreversible import mark
from .model import Action, ActionKind, Plan
from .refresh import Observation, refresh
from .relocation import mission_form, relocated
from .targeting import Selection, check_ids, select

#: an output an in-place update will change: expressions reading it are known after apply
AFTER_APPLY = Unknown("(known after apply)")
log = logging.getLogger("skyform.plan")


def diff(before: Any, after: Any, path: tuple[Any, ...] = (), directory: Path | None = None) -> list[Change]:
    """Field-level differences between two storable specs (lists compare whole).

    With ``directory`` (the mission's), an absolute path inside it and its relative form are
    the same value: a spec may name a file either way (:func:`.relocation.mission_form`).
    """
    if isinstance(after, Unknown):
        return [Change(path, before, after)]
    if isinstance(before, dict) and isinstance(after, dict) and "$secret" not in after:
        out: list[Change] = []
        for key in list(before) + [k for k in after if k not in before]:
            if key not in after:
                out.append(Change(path + (key,), before[key], None))
            elif key not in before:
                out.append(Change(path + (key,), None, after[key]))
            else:
                out += diff(before[key], after[key], path + (key,), directory)
        return out
    if before != after and (directory is None or mission_form(before, directory) != mission_form(after, directory)):
        return [Change(path, before, after)]
    return []


def _ignored(change: Change, ignore: Iterable[str]) -> bool:
    dotted = ".".join(map(str, change.path))
    return any(dotted == i or dotted.startswith(i + ".") for i in ignore)


def _storable_desired(spec: Any) -> Any:
    """Desired spec in the stored form, keeping Unknown objects for the diff."""
    if isinstance(spec, Unknown):
        return spec
    if isinstance(spec, dict):
        return {k: _storable_desired(v) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_storable_desired(v) for v in spec]
    return to_storable(spec)


def _forcing_note(kind: ResourceKind, changes: list[Change]) -> str | None:
    """Which changed fields force a replace, for a kind that decided without saying why."""
    if kind.immutable == ALL_FIELDS:
        return f"{kind.name} cannot change in place: any change makes a new one"
    forcing = sorted({str(c.path[0]) for c in changes if c.path and str(c.path[0]) in kind.immutable})
    return f"{', '.join(forcing)} cannot change in place" if forcing else None


class Planner:
    """Computes a Plan for a mission against a state store."""

    def __init__(self, mission: Mission, runtime: Runtime, store: StateStore, *, today: date | None = None) -> None:
        self.mission = mission
        self.runtime = runtime
        self.store = store
        self.today = today or date.today()
        self.deps = graph.dependencies(mission)
        self.warnings: list[str] = []
        self.allow_forget = False
        self.order = graph.topological(self.deps, list(mission.resources))
        self.specs: dict[str, Any] = {}  # resolved desired specs, for the kinds' irreversibility
        self.directory = mission.directory.resolve()

    def plan(
        self,
        *,
        mode: str = "apply",
        targets: Iterable[str] = (),
        do_refresh: bool = True,
        parallelism: int = DEFAULT_PARALLELISM,
        allow_forget: bool = False,
        plan_checks: bool = True,
        excludes: Iterable[str] = (),
    ) -> Plan:
        state = self.store.mission(self.mission.name)
        stored = self.store.resources(self.mission.name)
        self.records = stored  # the apply of this very plan reuses them (Session.apply)
        # planned from the records in today's form (another checkout's, an older version's)
        self.relocation = relocated(stored, self.runtime)  # written so by the apply (Session.apply)
        records = self.relocation[0]
        targets, excludes = list(targets), list(excludes)
        self.allow_forget = allow_forget
        known = [*self.mission.resources, *records]
        check_ids("--target", targets, known)
        check_ids("--exclude", excludes, known)
        selection = self._selection(records, targets, excludes, destroy=mode == "destroy")
        observations = refresh(self.runtime, records, parallelism) if do_refresh else {}
        fatal = sorted({o.error for o in observations.values() if o.fatal and o.error})
        if fatal:
            raise RemoteError("refresh failed:\n  " + "\n  ".join(fatal))
        if mode == "destroy":
            actions = self._destroy(records, selection, allow_forget)
        else:
            actions = self._apply_actions(
                records, observations, selection, allow_forget, mode == "refresh-only", plan_checks
            )
        self._refuse_prevented(actions, records)
        mark(
            actions,
            lambda t: self.runtime.kind(t)[1],
            self.specs,
            records,
            self.mission.directory,
            self.today,
        )
        budget = self.mission.budget if mode == "apply" else None
        cost = summarize(actions)
        # every record, whatever --target selects, and what removed ones had cost
        spent = so_far(records.values(), state.attributes if state else None)
        warnings = list(self.warnings) + [
            f"estimates in {c} are not counted against budget.max (in {budget.currency}): skyform converts no money"
            for c in other_currencies(cost, budget)
            if budget is not None
        ]
        return Plan(
            mission=self.mission.name,
            mission_path=str(self.mission.source),
            spec_digest=self.mission.digest,
            lineage=state.lineage if state else "",
            serial=state.serial if state else 0,
            actions=actions,
            mode=mode,  # type: ignore[arg-type]  # a str until the plan vocabulary is typed
            targets=targets,
            warnings=warnings,
            excludes=excludes,
            excluded=list(selection.excluded),
            budget=breaches(actions, self.mission) + mission_breaches(cost, budget, spent),
            mission_budget=budget,
            spent=spent,
            policy=self.mission.policy,
        )

    def _selection(
        self, records: Mapping[str, ResourceState], targets: list[str], excludes: list[str], *, destroy: bool
    ) -> Selection:
        """The ids this run may act on: the mission's graph, and recorded links for what
        only state knows (orphans, and every record in a destroy)."""
        recorded = {a: [d for d in rs.depends_on if d in records] for a, rs in records.items()}
        if destroy:
            return select(
                recorded,
                sorted(records, key=lambda a: records[a].created_at),
                targets=targets,
                excludes=excludes,
                destroy=True,
            )
        deps = {**recorded, **self.deps}
        every = [*self.order, *(a for a in records if a not in self.mission.resources)]
        return select(deps, every, targets=targets, excludes=excludes)

    # -- decisions ----------------------------------------------------------------------
    def _apply_actions(
        self,
        records: Mapping[str, ResourceState],
        obs: Mapping[str, Observation],
        wanted: Selection,
        allow_forget: bool,
        refresh_only: bool,
        plan_checks: bool,
    ) -> list[Action]:
        known_outputs: dict[str, Any] = {}
        actions: list[Action] = []
        problems: list[Diagnostic] = []
        # a plan whose secrets are missing could never be applied: say so now, not after approval
        scope = Scope(
            self.mission, self.runtime.secrets, known_outputs, require_secrets=True, registry=self.runtime.registry
        )
        for rid in self.order:
            if rid not in wanted:
                continue
            resource = self.mission.resources[rid]
            rs = records.get(rid)
            ob = obs.get(rid, Observation())
            base = ("resources", rid, "spec")
            spec = scope.resolve_at(resource.spec, base, problems, resource.type)
            if spec is None:
                continue
            self.specs[rid] = spec
            action = self._decide(rid, resource.type, resource.lifecycle, spec, rs, ob, refresh_only)
            action.depends_on = list(self.deps[rid])
            if action.action in (ActionKind.NOOP, ActionKind.UPDATE, ActionKind.RESUME) and rs is not None:
                # sealed as apply records them (and hands them on): an output made from a secret,
                # even one rotated since, reaches a dependent's spec as a digest, never in clear
                outputs = (
                    sealed(ob.result.outputs, like=rs.outputs)
                    if ob.result is not None and ob.result.outputs
                    else rs.outputs
                )
                known_outputs[rid] = (
                    outputs
                    if action.action == ActionKind.NOOP
                    else self._outputs_after_update(resource.type, outputs, rs.outputs, action)
                )
            if (
                plan_checks
                and not refresh_only
                and action.action in (ActionKind.CREATE, ActionKind.UPDATE, ActionKind.REPLACE)
            ):
                problems += self._plan_check(rid, resource, spec, action, rs)
            actions.append(action)
        if any(p.severity == "error" for p in problems):
            raise SpecError(problems)
        self.warnings = [str(p) for p in problems]
        for rid in self._orphans(records, wanted):
            actions.append(self._orphan_action(records[rid], allow_forget))
        return actions

    def _decide(
        self,
        rid: str,
        type_name: str,
        lifecycle: Lifecycle,
        spec: Any,
        rs: ResourceState | None,
        ob: Observation,
        refresh_only: bool,
    ) -> Action:
        _, kind = self.runtime.kind(type_name)
        if rs is None:
            return Action(rid, type_name, ActionKind.CREATE, "not in state")
        if ob.error and ob.transient:
            # the service is busy or flaky right now: plan from the recorded state, as
            # --refresh=false would for this resource, and say so
            self.warnings.append(f"{rid}: could not refresh ({ob.error}); planned from the recorded state")
            ob = Observation()
        elif ob.error:
            # nothing is known about it: it and its dependents wait; the rest of the mission goes on
            return Action(rid, type_name, ActionKind.NOOP, "refresh failed", blocked=f"refresh failed: {ob.error}")
        if refresh_only:
            return Action(rid, type_name, ActionKind.NOOP, "refresh only", drift=self._drift(rs, ob))
        if rs.status == "creating" or (rs.remote_id is None and rs.status in ("failed", "deleting")):
            if ob.adopt_error:
                return Action(
                    rid,
                    type_name,
                    ActionKind.CREATE,
                    "resume an interrupted create",
                    adopt_first=True,
                    blocked=ob.adopt_error,
                )
            if rs.status == "creating":
                note = (
                    f"found {ob.adopted.remote_id} made by the interrupted create: it will be adopted"
                    if ob.adopted is not None
                    else "nothing was found for the interrupted create"
                )
                return Action(
                    rid, type_name, ActionKind.CREATE, "resume an interrupted create", notes=[note], adopt_first=True
                )
            if ob.adopted is not None:
                # a create that failed after the service made its object (a lost answer, a
                # later step refused): refresh found it by the intent's key; a new create
                # would make a second one (the faults campaign saw two iTwin jobs)
                return Action(
                    rid,
                    type_name,
                    ActionKind.CREATE,
                    "resume a failed create",
                    notes=[f"found {ob.adopted.remote_id} made by the failed create: it will be adopted"],
                    adopt_first=True,
                )
            # nothing found, or not looked for (--refresh=false, the look failed for now): apply
            # looks again with the intent's key before it creates, so a lost answer's object is
            # never doubled
            return Action(rid, type_name, ActionKind.CREATE, "the previous create failed", adopt_first=True)
        if rs.type != type_name:
            return Action(rid, type_name, ActionKind.REPLACE, f"type changed from {rs.type}")
        if ob.gone:
            return Action(rid, type_name, ActionKind.CREATE, "the remote object no longer exists")
        if rs.status == "failed":
            return Action(rid, type_name, ActionKind.REPLACE, f"the last apply failed: {rs.error or 'unknown error'}")
        if rs.status == "deleting":
            return Action(rid, type_name, ActionKind.REPLACE, "an interrupted replace")
        desired = _storable_desired(spec)
        changes = [
            c for c in diff(rs.spec, desired, directory=self.directory) if not _ignored(c, lifecycle.ignore_changes)
        ]
        drift = [c for c in self._drift(rs, ob) if not _ignored(c, lifecycle.ignore_changes)]
        if changes or drift:
            record = to_record(rs)
            decision = kind.plan_change(changes + drift, record)
            reason = "spec changed" if changes else "changed outside skyform"
            why = decision.note or (
                _forcing_note(kind, changes + drift) if decision.action == ActionKind.REPLACE else None
            )
            action = Action(
                rid,
                type_name,
                ActionKind(decision.action),
                reason,
                changes=changes,
                drift=drift,
                notes=[why] if why else [],
            )
            if decision.action == ActionKind.REPLACE:
                self._replace_without_delete(action, kind)
            return action
        if rs.status == "running":
            return Action(rid, type_name, ActionKind.RESUME, "the remote job is still running: wait for it")
        if rs.private.get(LIFECYCLE_KEY, {}).get("prevent_destroy", False) != lifecycle.prevent_destroy:
            return Action(
                rid, type_name, ActionKind.NOOP, "lifecycle.prevent_destroy changed: recorded in state", state_only=True
            )
        return Action(rid, type_name, ActionKind.NOOP, "up to date")

    def _outputs_after_update(
        self, type_name: str, outputs: Mapping[str, Any], recorded: Mapping[str, Any], action: Action
    ) -> dict[str, Any]:
        """The outputs dependents see while ``action`` updates the resource in place (or
        waits for it: a remote job still running, e.g. after an interrupted update).

        Those the kind keeps across this update (``ResourceKind.kept_outputs``: ``id`` by
        default) keep their values, so a child that uses only them is not replaced; a job
        still running keeps only its ``stable_outputs`` (its identity: what it produces is
        not final). Every other output is known after apply. A kept output the refresh saw
        differ from the record is not trusted either: apply checks the update against the
        record.
        """
        _, kind = self.runtime.kind(type_name)
        changes = action.changes + action.drift
        keeps = (
            kind.kept_outputs(outputs, changes)
            if action.action == ActionKind.UPDATE
            else {k: v for k, v in outputs.items() if k in kind.stable_outputs}
        )
        kept = {k: v for k, v in keeps.items() if recorded.get(k) == v}
        declared = (kind.outputs_schema.get("properties") or {}).keys()
        return {name: kept.get(name, AFTER_APPLY) for name in [*outputs, *declared]}

    def _replace_without_delete(self, action: Action, kind: ResourceKind) -> None:
        """A replace of a kind the API cannot delete: blocked, or the old object forgotten."""
        if kind.delete_mode == "forget":
            action.notes.append(f"the old object is not deleted: {kind.delete_note or 'it goes with its parent'}")
        elif kind.delete_mode == "manual":
            note = kind.delete_note or "the API cannot delete it"
            if self.allow_forget:
                action.notes.append(f"the old object stays in the service and is forgotten ({note})")
            else:
                action.blocked = (
                    f"replacing needs the old object deleted, and {note}; delete it in the service, "
                    "then pass --forget to create the new one"
                )

    def _drift(self, rs: ResourceState, ob: Observation) -> list[Change]:
        if ob.result is None or ob.result.observed is None or not rs.observed:
            return []
        # a value recorded as sensitive stays so when read back (after a rotation the service
        # still holds the value made from the old secret): compared by digest, never shown
        now = sealed(ob.result.observed, like=rs.observed)
        return [
            Change((k,), now.get(k), rs.observed.get(k))
            for k in sorted(set(rs.observed) | set(now))
            if k in rs.observed and now.get(k) != rs.observed.get(k)
        ]

    def _plan_check(
        self, rid: str, resource: Any, spec: Any, action: Action, rs: ResourceState | None = None
    ) -> list[Diagnostic]:
        _, kind = self.runtime.kind(resource.type)
        base = ("resources", rid, "spec")
        kind_class = type(kind)
        if (
            kind_class.plan_check is ResourceKind.plan_check
            and kind_class.estimate_cost is ResourceKind.estimate_cost
            and kind_class.estimate_update_cost is ResourceKind.estimate_update_cost
        ):
            return []  # nothing remote to check: no client, no context
        try:
            ctx = self.runtime.context(
                rid, resource.type, idempotency_key="", intent_at=time.time(), lifecycle=resource.lifecycle.as_dict()
            )
            issues = list(with_retries(lambda: list(kind.plan_check(spec, ctx))))
            if action.action == ActionKind.UPDATE and rs is not None:  # in place: the delta, not a create
                changes = [*action.changes, *action.drift]
                record = to_record(rs)
                cost = with_retries(lambda: kind.estimate_update_cost(record, spec, changes, ctx))
            else:
                cost = with_retries(lambda: kind.estimate_cost(spec, ctx))
            if cost is not None:
                action.cost = cost
                ceiling = resource.lifecycle.max_cost
                if ceiling is not None and cost.firm and cost.amount > ceiling:
                    action.blocked = (
                        f"cost estimate {cost.figure} is above lifecycle.max_cost {ceiling:g}; "
                        "nothing will be submitted"
                    )
        except RemoteError as exc:
            return [
                Diagnostic(".".join(base), f"plan-time check failed: {exc}", self.mission.locate(*base), resource.type)
            ]
        except SkyformError:
            raise
        except Exception as exc:  # a provider bug or an answer it did not expect
            log.debug("plan-time check of %s failed", rid, exc_info=True)
            return [
                Diagnostic(
                    ".".join(base),
                    f"plan-time check failed unexpectedly: {type(exc).__name__}: {exc} "
                    "(a provider bug or an unexpected answer; -vv shows the traceback)",
                    self.mission.locate(*base),
                    resource.type,
                )
            ]
        return issue_diagnostics(issues, self.mission.document, base, resource.type)

    def _orphans(self, records: Mapping[str, ResourceState], wanted: Selection) -> list[str]:
        orphans = [a for a in records if a not in self.mission.resources and a in wanted]
        deps = {a: [d for d in records[a].depends_on if d in records] for a in records}
        order = graph.topological(deps, sorted(records, key=lambda a: records[a].created_at))
        return [a for a in reversed(order) if a in orphans]

    def _orphan_action(self, rs: ResourceState, allow_forget: bool, reason: str = "removed from the mission") -> Action:
        try:
            _, kind = self.runtime.kind(rs.type)
            mode, note = kind.delete_mode, kind.delete_note
        except SkyformError:
            mode, note = "manual", f"provider of {rs.type} is not installed"
        if mode == "forget":
            return Action(rs.address, rs.type, ActionKind.FORGET, reason, notes=[note] if note else [])
        if mode == "manual":
            if allow_forget:
                return Action(
                    rs.address, rs.type, ActionKind.FORGET, reason, notes=[note or "the API cannot delete it"]
                )
            return Action(
                rs.address,
                rs.type,
                ActionKind.DELETE,
                reason,
                notes=[note] if note else [],
                blocked=f"{rs.type} cannot be deleted through its API ({note or 'no delete endpoint'}); "
                "delete it in the service, then pass --forget to drop it from state",
            )
        return Action(rs.address, rs.type, ActionKind.DELETE, reason, notes=[note] if note else [])

    def _destroy(self, records: Mapping[str, ResourceState], chosen: Selection, allow_forget: bool) -> list[Action]:
        deps = {a: [d for d in records[a].depends_on if d in records] for a in records}
        order = graph.topological(deps, sorted(records, key=lambda a: records[a].created_at))
        return [self._orphan_action(records[a], allow_forget, "destroy") for a in reversed(order) if a in chosen]

    def _refuse_prevented(self, actions: list[Action], records: Mapping[str, ResourceState]) -> None:
        prevented = []
        for a in actions:
            if a.action not in (ActionKind.DELETE, ActionKind.REPLACE, ActionKind.FORGET):
                continue
            if a.address in self.mission.resources:
                protect = self.mission.resources[a.address].lifecycle.prevent_destroy
            else:
                rs = records.get(a.address)
                protect = bool(rs and rs.private.get(LIFECYCLE_KEY, {}).get("prevent_destroy"))
            if protect:
                prevented.append(f"{a.address} ({a.action}: {a.reason})")
        if prevented:
            raise PlanRefused(
                "lifecycle.prevent_destroy forbids this plan: " + "; ".join(prevented),
                hint="remove prevent_destroy from the resource first if you really mean it",
            )
