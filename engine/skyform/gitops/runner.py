"""One gitops run: every selected mission of a commit planned (and applied), independently.

Missions run one after another (or ``jobs`` at a time, see :mod:`.parallel`), each in its
own :class:`skyform.api.Session` (its own lock, its own provider clients); a mission that
fails is reported and the others run (``fail_fast``: no new one starts). A
directory with a file that mentions ``Mission`` but does not parse is reported as a failed
mission at that directory (see :mod:`.discovery`), never left out. Each
mission's state is keyed by its ``metadata.name`` and carries the attributes ``repository``,
``path`` and ``commit``; a name already recorded from another repository or directory is
refused rather than silently sharing state. ``prune`` destroys missions recorded from this
repository whose directory is gone at the commit (or now holds a mission of another name),
using the mission files of the commit they were last applied from. A mission whose plan
needs an approval is applied only with a matching ``approvals/<mission>.json`` in the
commit (:mod:`skyform.approvals.gitops_file`), under the repository's policy too.

Pruning is :mod:`.prune`; turning a mission's failures into its report, :mod:`.failures`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..approvals.gate import CommittedApproval
from ..approvals.gitops_file import missing as missing_approval
from ..approvals.repository_policy import load as load_policy
from ..approvals.repository_policy import refuse_elsewhere as refuse_policy_elsewhere
from ..errors import SkyformError, SpecError, StateError, UsageError
from ..events import EventKind
from ..providers.base import DEFAULT_PARALLELISM
from ..spec.policy import MissionPolicy
from . import discovery, parallel
from .failures import raise_for, reported
from .order import MissionOrder, MissionsElsewhere, without_password
from .prune import prune
from .report import MissionReport, RunReport
from .repository import Repository, changed_paths, identify, open_repository, resolve
from .workspace import Workspace

Emit = Callable[[dict[str, Any]], None]


@dataclass
class Request:
    """What to run: the repository, the commit, which missions, and how."""

    repository: str
    ref: str = "HEAD"
    paths: Sequence[str] = ()
    apply: bool = False
    prune: bool = False
    state_url: str | None = None
    since: str | None = None
    refresh: bool = True
    refresh_only: bool = False
    parallelism: int = DEFAULT_PARALLELISM
    secrets_file: Path | None = None
    base_dir: Path | None = None  # gitops' own directory (default: the user's state dir)
    repository_id: str | None = None  # the identity recorded in state (default: origin URL or path)
    jobs: int = 1  # missions side by side (see .parallel)
    fail_fast: bool = False  # start no mission after one failed
    executor: str = "local"  # where each mission's provider calls run (an executor plugin)
    broker: str | None = None  # that executor's broker, if it has one


def _quiet(_: dict[str, Any]) -> None:
    pass


def run(
    request: Request,
    *,
    registry: Any = None,
    emit: Emit = _quiet,
    on_mission: Callable[[MissionReport], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_scheduler: Callable[[Any], None] | None = None,
    elsewhere: MissionsElsewhere | None = None,
) -> RunReport:
    """Run gitops once; git, workspace and state-level problems raise, mission problems are reported.

    ``should_stop`` is asked before each mission (a runner shutting down stops between
    missions); ``on_scheduler`` receives each apply's scheduler, so a shutdown can ask it
    to stop dispatching and let in-flight calls finish. ``elsewhere`` runs the missions
    somewhere else (``--executor celery``: one task per mission on the workers), the report
    and the pruning staying here.
    """
    if registry is None:
        from ..providers.host import load_registry

        registry = load_registry()
    key = request.repository_id or identify(request.repository)[0]
    workspace = Workspace.for_repository(key, request.base_dir)
    with workspace:
        repo = open_repository(request.repository, workspace.root / "mirror.git", key)
        commit = resolve(repo, request.ref)
        report = RunReport(
            repository=repo.key,
            ref=request.ref,
            commit=commit,
            mode="apply" if request.apply else "plan",
            since=request.since,
        )
        tree = workspace.checkout(repo, commit)
        found = discovery.discover(tree)
        present = found.missions
        selected = [m for m in present if discovery.matches(m, request.paths)]
        unreadable = [d for d in found.problems if discovery.matches(d, request.paths)]
        if request.paths and not selected and not unreadable and not request.prune:
            raise SkyformError(
                f"no mission directory at {commit[:12]} matches --path {' '.join(request.paths)}",
                hint=f"missions found: {', '.join(present) or 'none'}",
            )
        if request.since:
            changed = changed_paths(repo, request.since, commit)
            selected = discovery.touched(selected, changed)
            unreadable = discovery.touched(unreadable, changed)
        state_url = _state_url(request.state_url, workspace)
        schedulers = parallel.Schedulers(on_scheduler)
        mission = _MissionRunner(request, repo, commit, state_url, registry, emit, schedulers.attach)
        mission.turns = parallel.Turns(sorted(selected))
        mission.approvals_root = tree
        mission.policy = load_policy(tree)  # approvals/policy.yaml; a broken one fails the run
        if elsewhere is not None:
            _check_shared(state_url)
            refuse_policy_elsewhere(mission.policy)  # fail closed: workers would plan without it
            schedulers.attach(elsewhere)  # a stop request stops the waiting too

        def run_one(path: str) -> MissionReport:
            if path in found.problems:
                return _unreadable(path, commit, found.problems[path], tree)
            if elsewhere is not None:
                return elsewhere.run(_order(request, repo, commit, path, state_url))
            return mission.run(tree, path)

        report.missions += parallel.run_all(
            sorted([*selected, *unreadable]),
            run_one,
            commit=commit,
            jobs=request.jobs,
            fail_fast=request.fail_fast,
            should_stop=should_stop,
            on_result=on_mission,
            schedulers=schedulers,
        )
        if request.prune and not should_stop():
            # a directory that does not parse is kept: a broken file is no reason to destroy
            for result in prune(mission, workspace, [*present, *found.problems], should_stop):
                report.missions.append(result)
                if on_mission:
                    on_mission(result)
    return report


def _unreadable(path: str, commit: str, problems: list[Any], tree: Path) -> MissionReport:
    """A directory whose files could not be read as YAML: it may be a mission, so it fails."""
    prefix = f"{tree}/"
    errors = [str(d).replace(prefix, "") for d in problems]
    return MissionReport(path=path, commit=commit, status="failed", errors=errors)


def _check_shared(state_url: str) -> None:
    if state_url.lower().startswith("sqlite:"):
        raise UsageError(
            "missions on workers need a state every worker reaches; this run's is a SQLite file here",
            hint="pass --state postgresql://USER@HOST/DB (each worker brings its password: skyform worker --state)",
        )


def _order(request: Request, repo: Repository, commit: str, path: str, state_url: str) -> MissionOrder:
    """One mission as a worker is sent it: the repository as workers reach it, no password."""
    source = request.repository
    if not repo.mirrored:
        source = str(Path(source).expanduser().resolve())  # a path: the same on a shared file system
    return MissionOrder(
        repository=without_password(source),  # workers bring their own git credentials
        repository_id=repo.key,
        commit=commit,
        path=path,
        apply=request.apply,
        state_url=without_password(state_url),
        refresh=request.refresh,
        refresh_only=request.refresh_only,
        parallelism=request.parallelism,
    )


def _state_url(url: str | None, workspace: Workspace) -> str:
    """The state URL; a relative SQLite path means relative to the current directory here,
    since the missions' own directories are gitops' checkout."""
    if url is None:
        return workspace.default_state_url
    if url.lower().startswith("sqlite:"):
        from ..state.plugin import sqlite_path

        return f"sqlite:///{sqlite_path(url, Path.cwd()).resolve()}"
    return url


class _MissionRunner:
    """Runs and prunes the missions of one commit, turning every failure into a report."""

    def __init__(
        self,
        request: Request,
        repo: Repository,
        commit: str,
        state_url: str,
        registry: Any,
        emit: Emit,
        on_scheduler: Callable[[Any], None] | None = None,
    ) -> None:
        self.request, self.repo, self.commit = request, repo, commit
        self.on_scheduler = on_scheduler
        self.state_url, self.registry, self.emit = state_url, registry, emit
        self.names: dict[str, str] = {}  # mission name -> path, this run
        self.turns = parallel.Turns([])  # names are claimed in mission order, whatever runs first
        self.approvals_root: Path | None = None  # the checkout holding approvals/ (the coordinator's)
        self.policy: MissionPolicy | None = None  # the repository's (approvals/policy.yaml)

    def options(self, path: str, commit: str, name: str | None = None) -> Any:
        from ..api import Options

        return Options(
            state_url=self.state_url,
            refresh=self.request.refresh,
            parallelism=self.request.parallelism,
            secrets_file=self.request.secrets_file,
            executor=self.request.executor,
            broker=self.request.broker,
            mission_name=name,
            attributes={"repository": self.repo.key, "path": path, "commit": commit},
        )

    def session(self, directory: Path, options: Any, path: str) -> Any:
        from ..api import Session

        def tagged(event: dict[str, Any]) -> None:
            self.emit({**event, "mission_path": path})

        return Session(directory, options, registry=self.registry, emit=tagged)

    def run(self, checkout: Path, path: str, directory: Path | None = None) -> MissionReport:
        """Plan (and apply) the mission at ``path`` of the checkout (or in ``directory``, a
        worker's copy of that one directory)."""
        result = MissionReport(path=path, commit=self.commit)
        try:
            with reported(result, checkout, directory, path):
                self._run(directory or checkout / path, path, result)
        finally:
            self.turns.passed(path)  # also when it failed before claiming its name
        return result

    def _run(self, directory: Path, path: str, result: MissionReport) -> None:
        options = self.options(path, self.commit)
        with self.session(directory, options, path) as session:
            result.name = name = session.mission.name
            result.warnings += [str(w) for w in session.warnings]
            self.turns.wait(path)
            try:
                self._check_owner(session, path)
                self.names[name] = path
            finally:
                self.turns.passed(path)
            mode = "refresh-only" if self.request.refresh_only else "apply"
            if self.policy is not None:  # the stricter of the repository's and the mission's
                session.mission.policy = self.policy.stricter(session.mission.policy)
            plan = session.plan(mode=mode)
            result.plan = plan.to_json()
            if plan.has_changes:  # approvals/ is in the coordinator's checkout only: a worker fails closed
                result.approval_missing = missing_approval(self.approvals_root, result.plan)
            if not self.request.apply:
                result.status = "changes" if plan.has_changes else "in_sync"
            elif result.approval_missing:  # refused before any request; the other missions go on
                result.status = "needs_approval"
            elif plan.has_changes:
                raise_for(
                    session.apply(
                        plan, approval=CommittedApproval(self.approvals_root), interrupt_handle=self.on_scheduler
                    )
                )
                result.status = "applied"
            else:
                session.upgrade_state(plan)  # records in an older form are written in today's
                self._record(session, options.attributes)
                result.status = "in_sync"

    def _check_owner(self, session: Any, path: str) -> None:
        name = session.mission.name
        if name in self.names:
            raise SpecError(
                [],
                message=f"mission name {name!r} is also used by {self.names[name]}; "
                "each mission directory needs its own metadata.name",
            )
        state = session.store.mission(name)
        recorded = state.attributes if state else {}
        owner = (recorded.get("repository"), recorded.get("path"))
        if owner[0] and owner != (self.repo.key, path):
            raise StateError(
                f"mission name {name!r} is already recorded in {session.store.url} from "
                f"{owner[0]} ({owner[1]}); two missions may not share a name in one state",
                hint="rename metadata.name, or give this repository its own --state",
            )

    def _record(self, session: Any, attributes: dict[str, Any]) -> None:
        """Record the commit of a mission that needed no change (prune finds missions by it)."""
        name, store = session.mission.name, session.store
        state = store.mission(name)
        if state is None or any(state.attributes.get(k) != v for k, v in attributes.items()):
            with store.locked(name, "gitops", warn=lambda m: self.emit({"event": EventKind.WARNING, "message": m})):
                store.write(name, mission_update={"attributes": attributes})


__all__ = ["Request", "run"]
