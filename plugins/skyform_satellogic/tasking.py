"""How a remote task reads in skyform terms: request body, readiness per wait_for, outputs, drift.

Kept apart from the kind's operations so that create, adopt, poll, read and update all
judge a task the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skyform.providers import Result

from .account import resolve_product
from .client import SatellogicClient
from .geometry import same_target
from .temporal import parse_age, same_instant

API_FIELDS = (
    "task_name",
    "project_name",
    "product",
    "target",
    "start",
    "end",
    "priority",
    "client",
    "max_captures",
    "max_simultaneous_captures",
    "expected_age",
)
CANCELED = frozenset({"canceled", "cancelled"})
# The full status enum is undocumented (REFERENCE.md, gaps); these end a task badly.
FAILED = frozenset({"failed", "rejected", "expired", "error"})
ENDED = CANCELED | FAILED | {"completed"}


def wait_for(spec: Mapping[str, Any]) -> str:
    """The spec's wait_for; default completed, or accepted for a recurring task."""
    chosen = spec.get("wait_for")
    if chosen:
        return str(chosen)
    return "accepted" if spec.get("expected_age") else "completed"


def request_body(spec: Mapping[str, Any], client: SatellogicClient) -> dict[str, Any]:
    """The POST /tasks/ body: the spec's API fields, the product as its id."""
    body = {k: spec[k] for k in API_FIELDS if spec.get(k) is not None}
    body["product"] = int(resolve_product(client, spec["product"])["pk"])
    return body


def capture_view(capture: Mapping[str, Any]) -> dict[str, Any]:
    """A capture as the outputs show it (the documented attributes)."""
    view = {k: capture.get(k) for k in ("capture_id", "start", "satellite_name", "status")}
    if capture.get("fragment_id") is not None:
        view["fragment_id"] = capture["fragment_id"]
    return view


def outputs(task: Mapping[str, Any], captures: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The Task kind's outputs from the remote task and its captures."""
    views = [capture_view(c) for c in captures]
    return {
        "task_id": task.get("task_id"),
        "status": task.get("status"),
        "product": task.get("product"),
        "priority": task.get("priority"),
        "client": task.get("client"),
        "created_time": task.get("created_time"),
        "captures": views,
        "capture_count": len(views),
        "published_capture_ids": [v["capture_id"] for v in views if v.get("status") == "published"],
    }


def observed(spec: Mapping[str, Any], task: Mapping[str, Any], product_pk: int | None) -> dict[str, Any]:
    """The remote values of spec fields, written as the spec writes them when equivalent.

    The service echoes instants in UTC and positions with an altitude, so a plain
    comparison would report drift (and replace a paid order) where there is none.
    """
    seen: dict[str, Any] = {}
    for name in API_FIELDS:
        if name not in spec or name not in task:
            continue  # fields the service does not echo cannot drift visibly
        mine, theirs = spec[name], task[name]
        if name == "product":
            same = theirs == mine or (product_pk is not None and theirs == product_pk)
        elif name == "target":
            same = same_target(mine, theirs)
        elif name in ("start", "end"):
            same = same_instant(mine, theirs)
        elif name == "expected_age":
            same = parse_age(mine) is not None and parse_age(mine) == parse_age(theirs)
        else:
            same = mine == theirs
        seen[name] = mine if same else theirs
    if "wait_for" in spec:
        seen["wait_for"] = spec["wait_for"]
    return seen


def judge(
    task: Mapping[str, Any], captures: list[Mapping[str, Any]], spec: Mapping[str, Any], product_pk: int | None
) -> Result:
    """The Result for a task seen now, given when the spec counts it as ready."""
    status = str(task.get("status", "")).lower()
    task_id = task.get("task_id")
    target = wait_for(spec)
    published = sum(1 for c in captures if c.get("status") == "published")
    needed = int(spec.get("max_captures") or 1)
    result = Result(
        remote_id=str(task_id),
        status="running",
        outputs=outputs(task, captures),
        observed=observed(spec, task, product_pk),
        private={"product_pk": product_pk, "wait_for": target},
    )
    if status in CANCELED:
        result.status, result.message = "failed", f"task {task_id} was canceled"
    elif status in FAILED:
        result.status, result.message = "failed", f"task {task_id} ended with status {status!r}"
    elif target == "accepted":
        result.status, result.message = "ready", f"task {task_id} {status}"
    elif target == "first_capture" and published:
        result.status, result.message = "ready", f"task {task_id}: first capture published"
    elif target == "completed" and status == "completed":
        result.status, result.message = "ready", f"task {task_id} completed with {published} published capture(s)"
    elif status == "completed":
        result.status = "failed"
        result.message = f"task {task_id} completed without a published capture"
    else:
        result.message = f"task {task_id} {status}: {published} of {len(captures)} capture(s) published"
        if target == "completed" and not spec.get("expected_age"):
            result.progress = min(1.0, published / needed)
    return result
