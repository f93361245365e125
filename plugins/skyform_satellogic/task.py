"""The ``satellogic.Task`` kind: one tasking order, followed until it is ready per ``wait_for``.

Tasks cannot be updated (no endpoint is documented), so any change to what was ordered is
a replace: cancel the paid order, task a new one. The API has no idempotency key either,
so a create interrupted after its POST is found again by listing the project's tasks and
matching everything the spec asked for, created after the intent was recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from skyform.catalog.model import Dataset
from skyform.errors import AdoptError, AuthError, Issue, NotFound, PermanentError
from skyform.providers import (
    ALL_FIELDS,
    Change,
    ChangePlan,
    CheckContext,
    Cost,
    Irreversibility,
    OperationContext,
    Record,
    ResourceKind,
    Result,
)

from .account import account_issues, resolve_product
from .captures import capture_datasets
from .client import PROVIDER
from .geometry import same_target
from .pricing import estimate
from .rules import task_issues
from .schemas import TASK_OUTPUTS, TASK_SPEC
from .tasking import CANCELED, ENDED, judge, request_body
from .temporal import parse_age, parse_instant, same_instant

REPLACE_NOTE = "cancels a paid order and tasks a new one"
# Seconds the service clock may lag ours when judging "created after the intent". Small on
# purpose: an identical order placed just before the intent would otherwise be taken for ours.
CLOCK_SKEW = 0.5


class TaskKind(ResourceKind):
    """A Satellogic tasking order of a point (POI) or an area (AOI), once or recurring."""

    name = "Task"
    description = "A Satellogic tasking order (POI or AOI, one-off or recurring) and its captures."
    spec_schema = TASK_SPEC
    outputs_schema = TASK_OUTPUTS
    # only wait_for updates in place (skyform's own readiness rule): the order itself stays
    stable_outputs = frozenset({"task_id", "product", "priority", "client", "created_time"})
    immutable = ALL_FIELDS
    long_running = True
    poll_interval = 15.0
    max_poll_interval = 600.0
    delete_mode = "delete"
    delete_note = (
        "cancels the order (PATCH /tasks/{id}/cancel/); the task stays in the account's history "
        "as canceled, the API cannot delete tasks"
    )

    # -- validate / plan ------------------------------------------------------------------
    def check(self, spec: Mapping[str, Any], ctx: CheckContext) -> Iterable[Issue]:
        """The documented rules a schema cannot state (see rules.py)."""
        return list(task_issues(spec, ctx))

    def plan_check(self, spec: Mapping[str, Any], ctx: OperationContext) -> Iterable[Issue]:
        """Product, client, priority range and geofence against the account."""
        return list(account_issues(spec, ctx.client))

    def estimate_cost(self, spec: Mapping[str, Any], ctx: OperationContext) -> Cost | None:
        """The whole window's captures at the ``prices`` the provider settings declare (pricing.py)."""
        return estimate(spec, ctx.settings)

    def estimate_update_cost(
        self, record: Record, spec: Mapping[str, Any], changes: list[Change], ctx: OperationContext
    ) -> Cost | None:
        """Free: only ``wait_for`` updates in place, the paid order and its captures are kept."""
        return Cost.free("only wait_for changes: the order is kept, no new capture")

    def irreversibility(
        self, action: str, spec: Mapping[str, Any] | None, record: Record | None, ctx: CheckContext
    ) -> Irreversibility:
        """An order is cancellable until its capture window opens; a capture taken is paid."""
        return order_irreversibility(action, spec, record)

    def plan_change(self, changes: list[Change], record: Record) -> ChangePlan:
        """Replace on any change of the order; a change of ``wait_for`` alone is skyform's own."""
        if all(c.field == "wait_for" for c in changes):
            return ChangePlan("update", "only wait_for changed: the order is kept, readiness re-judged")
        return ChangePlan("replace", REPLACE_NOTE)

    # -- apply ------------------------------------------------------------------------------
    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        """POST /tasks/; ready at once for wait_for accepted, else running."""
        body = request_body(spec, ctx.client)
        task = ctx.client.create_task(body)
        result = judge(task, [], spec, body["product"])
        if result.status == "ready":
            return result
        result.status, result.message = "running", f"task {task.get('task_id')} {task.get('status')}"
        return paced(result, ctx)

    def adopt(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result | None:
        """The task an interrupted create made: the one matching the spec, created after the intent."""
        pk = int(resolve_product(ctx.client, spec["product"])["pk"])
        found = [t for t in ctx.client.project_tasks(str(spec["project_name"])) if matches(t, spec, pk, ctx.intent_at)]
        if not found:
            return None
        if len(found) > 1:
            ids = [str(t.get("task_id")) for t in found]
            raise AdoptError(
                f"{PROVIDER}: {len(found)} tasks in project {spec['project_name']!r} match {spec['task_name']!r} "
                f"and were created after the interrupted create: {', '.join(ids)}; cannot tell which one is ours",
                candidates=ids,
                provider=PROVIDER,
                hint="cancel the extra tasks in the Satellogic account, then apply again",
            )
        task = found[0]
        return paced(judge(task, ctx.client.captures(task["task_id"]), spec, pk), ctx)

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        """The task as the service sees it; None when it is unknown or was canceled (gone)."""
        task = ctx.client.get_task(record.remote_id)
        if task is None or str(task.get("status", "")).lower() in ("canceled", "cancelled"):
            return None
        return judge(task, ctx.client.captures(record.remote_id), record.spec, record.private.get("product_pk"))

    def poll(self, record: Record, ctx: OperationContext) -> Result:
        """One look at the task and its captures, judged per wait_for."""
        task = ctx.client.get_task(record.remote_id)
        if task is None:
            raise NotFound(f"{PROVIDER}: {record.address}: task {record.remote_id} no longer exists", provider=PROVIDER)
        return paced(
            judge(task, ctx.client.captures(record.remote_id), record.spec, record.private.get("product_pk")), ctx
        )

    def update(self, record: Record, spec: Mapping[str, Any], changes: list[Change], ctx: OperationContext) -> Result:
        """Only ``wait_for`` can change in place: judge the same task against the new target."""
        task = ctx.client.get_task(record.remote_id)
        if task is None:
            raise NotFound(f"{PROVIDER}: {record.address}: task {record.remote_id} no longer exists", provider=PROVIDER)
        return paced(judge(task, ctx.client.captures(record.remote_id), spec, record.private.get("product_pk")), ctx)

    def cancel(self, record: Record, ctx: OperationContext) -> None:
        """Stop waiting: cancel the order (lifecycle.timeout)."""
        if record.remote_id:
            ctx.client.cancel_task(record.remote_id)

    def datasets(self, record: Record) -> list[Dataset]:
        return capture_datasets(record)

    def delete(self, record: Record, ctx: OperationContext) -> None:
        """Cancel the order; one already canceled or unknown is done, one the service
        refuses to cancel because it ended (completed, failed) is forgotten with a warning."""
        if not record.remote_id:
            return
        task = ctx.client.get_task(record.remote_id)
        status = str((task or {}).get("status", "")).lower()
        if task is None or status in CANCELED:
            return
        try:
            ctx.client.cancel_task(record.remote_id)
        except PermanentError as exc:
            if status not in ENDED or isinstance(exc, AuthError):
                raise
            ctx.reporter.warn(
                f"task {record.remote_id} is {status} and the service refused to cancel it "
                f"({exc.message}); it stays in the account's history"
            )


def order_irreversibility(action: str, spec: Mapping[str, Any] | None, record: Record | None) -> Irreversibility:
    """What cancelling can still give back: a new order until its window's ``start``; nothing
    for the captures a recorded task already has (each is paid once taken)."""
    taken = int((record.outputs.get("capture_count") or 0) if record else 0)
    if action in ("delete", "replace") and taken:
        return Irreversibility.irreversible(
            f"{taken} capture{'s' if taken != 1 else ''} already taken and paid; cancelling the order refunds none"
        )
    if action not in ("create", "replace") or spec is None:
        return Irreversibility.reversible()  # an update changes only skyform's wait_for
    start = parse_instant(spec.get("start"))
    if start is None:
        return Irreversibility.irreversible("the capture window's start is known only after apply")
    if start <= datetime.now(UTC):
        return Irreversibility.irreversible(
            f"the capture window opened at {spec['start']}: a capture may be taken (and paid) at once"
        )
    return Irreversibility.cancellable(
        str(spec["start"]), "the capture window opens; cancelling before then costs nothing, a capture taken is paid"
    )


def paced(result: Result, ctx: OperationContext) -> Result:
    """A running result with the poll interval the settings ask for (the sandbox sets one)."""
    interval = ctx.settings.get("poll_interval")
    if result.status == "running" and interval:
        result.poll_after = float(interval)
    return result


def matches(task: Mapping[str, Any], spec: Mapping[str, Any], product_pk: int, intent_at: float) -> bool:
    """True when a listed task is what the spec ordered, created after the create intent."""
    created = parse_instant(_with_offset(task.get("created_time")))
    if created is None or created.timestamp() < intent_at - CLOCK_SKEW:
        return False
    if task.get("task_name") != spec.get("task_name") or task.get("project_name") != spec.get("project_name"):
        return False
    if task.get("product") != product_pk or not same_target(spec.get("target") or {}, task.get("target") or {}):
        return False
    if not same_instant(spec.get("start"), task.get("start")) or not same_instant(spec.get("end"), task.get("end")):
        return False
    for name in ("priority", "client"):
        if spec.get(name) is not None and task.get(name) is not None and spec[name] != task[name]:
            return False
    # the service echoes expected_age when set: a one-off and a recurring order differ
    return parse_age(spec.get("expected_age")) == parse_age(task.get("expected_age"))


def _with_offset(text: object) -> object:
    """created_time as an aware ISO string (the service writes UTC with a Z)."""
    if isinstance(text, str) and not text.endswith("Z") and "+" not in text[10:]:
        try:
            datetime.fromisoformat(text)
            return text + "Z"
        except ValueError:
            return text
    return text
