"""``gitops --prune``: destroy the missions this repository applied that are gone at the commit.

A mission recorded from this repository whose directory is gone (or now holds a mission
of another name) is destroyed with the mission files of the commit it was last applied
from. Its deletions pass the same gate as any apply (:mod:`skyform.approvals.gate`): a
deletion that loses data or money (a CVAT task's annotations, a paid capture) needs the
mission's ``approvals/<mission>.json`` in the commit pruned at, under the repository's
policy too; without it the mission is ``needs_approval`` and nothing is deleted, and the
report says which approval is missing, as for an apply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..approvals.gate import CommittedApproval
from ..approvals.gitops_file import missing as missing_approval
from ..errors import PlanRefused, StateError
from . import discovery
from .failures import raise_for, reported
from .report import MissionReport
from .repository import commit_exists
from .workspace import Workspace

if TYPE_CHECKING:
    from .runner import _MissionRunner


def prune(
    runner: _MissionRunner,
    workspace: Workspace,
    present: list[str],
    should_stop: Callable[[], bool] = lambda: False,
) -> list[MissionReport]:
    """Destroy (or plan to destroy) the missions gone from the repository at this commit."""
    from ..state import open_store

    store = open_store(runner.state_url, workspace.root, runner.registry.state_backends.values())
    try:
        recorded = [m for m in store.missions() if m.attributes.get("repository") == runner.repo.key]
    finally:
        store.close()
    ran_at = {path: name for name, path in runner.names.items()}
    results = []
    for state in recorded:
        path = str(state.attributes.get("path", ""))
        if not discovery.matches(path, runner.request.paths):
            continue
        if path in present and ran_at.get(path, state.name) == state.name:
            continue  # still in the repository under this name (or not loaded this run: keep)
        if should_stop():
            break
        results.append(destroy(runner, workspace, state.name, path, str(state.attributes.get("commit", ""))))
    return results


def destroy(runner: _MissionRunner, workspace: Workspace, name: str, path: str, last_commit: str) -> MissionReport:
    """Plan (and, applying, carry out) the destruction of one mission gone from the repository."""
    result = MissionReport(path=path, commit=last_commit, operation="destroy", name=name)
    with reported(result, workspace.root / "pruned" / last_commit[:12]):
        if not last_commit or not commit_exists(runner.repo, last_commit):
            raise StateError(
                f"mission {name!r} ({path}) is gone from the repository, but the commit it was "
                f"last applied from ({last_commit[:12] or 'unknown'}) is not in {runner.repo.key}",
                hint="check out a commit that has it and run `skyform destroy DIR --state URL`, "
                "with the mission's metadata.name unchanged",
            )
        directory = workspace.export_removed(runner.repo, last_commit, path)
        with runner.session(directory, runner.options(path, last_commit, name), path) as session:
            if runner.policy is not None:  # the repository's policy holds for its prunes too
                session.mission.policy = runner.policy.stricter(session.mission.policy)
            try:
                plan = session.plan(mode="destroy")
            except PlanRefused as exc:  # prevent_destroy: say which mission and resource
                raise PlanRefused(
                    f"mission {name!r} ({path}) is gone at {runner.commit[:12]} but cannot be pruned: {exc.message}",
                    hint=exc.hint,
                ) from exc
            result.plan = plan.to_json()
            if plan.has_changes:  # the approval is read from the commit pruned at
                result.approval_missing = missing_approval(runner.approvals_root, result.plan)
            if not runner.request.apply:
                result.status = "changes"
                return result
            if result.approval_missing:  # refused before any request; the other missions go on
                result.status = "needs_approval"
                return result
            approval = CommittedApproval(runner.approvals_root)
            raise_for(session.apply(plan, approval=approval, interrupt_handle=runner.on_scheduler))
            session.store.delete_mission(name)
            result.status = "destroyed"
    return result
