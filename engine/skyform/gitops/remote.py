"""One mission of a gitops run, run where its task arrives: a ``skyform worker``.

``gitops apply --executor celery`` sends each mission as an order (:class:`~.order.MissionOrder`):
the repository (a URL the worker can clone, or a path it can read), the commit, the
mission's path and how to run it; never files and never secrets (a worker resolves secret
names from its own environment or ``--secrets-file``). The worker exports that one
directory at that commit into its own workspace (:class:`~.workspace.MissionCheckout`,
which keeps the mission's ``.skyform/`` between commits) and runs it exactly as a local
gitops run does: its own session, its own lock in the shared PostgreSQL state, the same
failure reporting. Only the report travels back, compact (:func:`report_to_wire`: the
plan's changing actions, not its no-ops). Celery itself is in
:mod:`skyform.distributed.missions`; nothing here imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..errors import Interrupted, StateError
from ..plan.model import ActionKind
from .failures import reported
from .order import MissionOrder
from .report import MissionReport
from .repository import commit_exists, open_repository
from .runner import Emit, Request, _MissionRunner, _quiet
from .workspace import MissionCheckout, Workspace, hold_mirror


def run_order(
    order: MissionOrder,
    *,
    registry: Any = None,
    secrets_file: Path | None = None,
    state_url: str | None = None,
    base_dir: Path | None = None,
    emit: Emit = _quiet,
    on_scheduler: Callable[[Any], None] | None = None,
) -> MissionReport:
    """Run one ordered mission here; every problem is in the report, nothing raises.

    ``state_url`` overrides the order's (the worker reaches the database differently);
    ``base_dir`` is the worker's gitops directory (default: the user's state directory).
    """
    if registry is None:
        from ..providers.host import load_registry

        registry = load_registry()
    request = Request(
        repository=order.repository,
        ref=order.commit,
        apply=order.apply,
        state_url=state_url or order.state_url,
        refresh=order.refresh,
        refresh_only=order.refresh_only,
        parallelism=order.parallelism,
        secrets_file=secrets_file,
        base_dir=base_dir,
        repository_id=order.repository_id,
    )
    root = Workspace.for_repository(order.repository_id, base_dir).root
    failed = MissionReport(path=order.path, commit=order.commit)
    with reported(failed):  # the repository or the checkout cannot be had here
        with hold_mirror(root):
            repo = open_repository(order.repository, root / "mirror.git", order.repository_id)
        if not commit_exists(repo, order.commit):
            raise StateError(
                f"commit {order.commit[:12]} is not in {order.repository} as this worker reads it",
                hint="give gitops a repository URL every worker can fetch (not a path only the coordinator has)",
            )
        with MissionCheckout(root, order.path) as checkout:
            directory = checkout.checkout(repo, order.commit)
            runner = _MissionRunner(request, repo, order.commit, str(request.state_url), registry, emit, on_scheduler)
            try:
                return runner.run(directory.parent, order.path, directory)
            except Interrupted as exc:  # the worker stopped it (its time is up, or it is shutting down)
                failed.name = None
                failed.status = "failed"
                failed.errors.append(f"interrupted on the worker: {exc.message}")
                return failed
    return failed


def report_to_wire(report: MissionReport) -> dict[str, Any]:
    """The report as a small JSON message: the plan keeps what the reports print."""
    plan = report.plan or {}
    kept = ("has_changes", "counts", "cost", "budget", "irreversible", "approval")
    compact: dict[str, Any] = {k: plan[k] for k in kept if k in plan}
    compact["actions"] = [a for a in plan.get("actions", []) if a.get("action") != ActionKind.NOOP]
    return {
        "path": report.path,
        "commit": report.commit,
        "operation": report.operation,
        "name": report.name,
        "status": report.status,
        "plan": compact if report.plan is not None else None,
        "errors": list(report.errors),
        "warnings": list(report.warnings),
        "approval_missing": report.approval_missing,
    }


def report_from_wire(data: dict[str, Any]) -> MissionReport:
    known = {f.name for f in fields(MissionReport)}
    return MissionReport(**{k: v for k, v in data.items() if k in known})
