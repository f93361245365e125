"""``skyform gitops plan|apply REPO``: every mission of a git repository at one commit.

Missions are read from a clean export of the commit (never the caller's work tree), state
lives outside the repository, and each mission succeeds or fails on its own (``--jobs N``
runs N side by side, the report still in the missions' order; ``--fail-fast`` starts no
mission after a failure); the exit code
says whether any failed (``plan --detailed-exitcode``: 0 in sync, 2 changes, 8 changes over a
cost ceiling, 1 error).
``gitops apply`` never prompts: it is meant for CI and runners, where the pull request was
the approval.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import Diagnostic, ExitCode
from ..events import EventKind
from .options import Decorator, shared
from .output import change_text


def registry_from(ctx: click.Context) -> Any:
    """The plugin registry a caller put in ``ctx.obj['registry']`` (tests), else the installed one."""
    from ..providers.host import load_registry

    obj = ctx.find_object(dict)
    if obj is not None and obj.get("registry") is not None:
        return obj["registry"]
    return load_registry()


def gitops_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by ``gitops plan``, ``gitops apply`` and ``reconcile``."""
    options: list[Decorator] = [
        click.argument("repository", metavar="REPO"),
        click.option("--ref", default="HEAD", show_default=True, help="Commit, branch or tag to run."),
        click.option(
            "--path",
            "paths",
            multiple=True,
            metavar="GLOB",
            help="Only mission directories matching this glob, relative to the repository root "
            "(repeatable; default: every directory holding a mission).",
        ),
        click.option(
            "--prune", is_flag=True, help="Destroy missions applied from this repository that are gone at REF."
        ),
        shared(
            "jobs",
            "fail_fast",
            "state",
            "refresh",
            "parallelism",
            "secrets_file",
            state="State backend URL (default: a SQLite file per repository in the user's state "
            "directory). Env: SKYFORM_STATE.",
            parallelism="Concurrent provider calls per mission (each provider's own limit still applies).",
        ),
        click.option(
            "--workdir",
            type=click.Path(path_type=Path, file_okay=False),
            help="gitops' own directory (checkouts, default state); default: the user's state dir.",
        ),
        click.option(
            "--repository-id",
            metavar="ID",
            help="The repository's identity in state (default: its origin URL, else its path).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def report_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options of how ``gitops plan|apply`` report: JSON, pull-request markdown, ``--since``."""
    options: list[Decorator] = [
        shared("json", json="Print one JSON summary on stdout."),
        click.option(
            "--report-markdown",
            type=click.Path(path_type=Path, dir_okay=False),
            metavar="FILE",
            help="Write a markdown summary (for a pull-request comment).",
        ),
        click.option(
            "--since",
            metavar="BASE",
            help="Only missions whose files changed between BASE and REF (pull-request preview).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def request_from(kw: dict[str, Any], *, apply: bool) -> Any:
    from ..gitops import Request

    return Request(
        repository=kw["repository"],
        ref=kw["ref"],
        paths=tuple(kw["paths"]),
        apply=apply,
        prune=kw["prune"],
        state_url=kw["state_url"],
        since=kw.get("since"),
        refresh=kw["refresh"],
        refresh_only=kw.get("refresh_only", False),
        parallelism=kw["parallelism"],
        secrets_file=kw["secrets_file"],
        base_dir=kw["workdir"],
        repository_id=kw["repository_id"],
        jobs=kw["jobs"],
        fail_fast=kw["fail_fast"],
        executor="local" if kw.get("executor") in (None, "celery") else kw["executor"],
        broker=kw.get("broker"),
    )


def mission_lines(m: Any) -> list[str]:
    """A mission's result as text: a heading, its changing actions, its errors."""
    from ..plan.model import ActionKind, symbol

    who = f"{m.path} ({m.name})" if m.name else m.path
    what = {
        "in_sync": "in sync",
        "changes": "changes",
        "applied": "applied",
        "destroyed": "destroyed",
        "failed": click.style("FAILED", fg="red", bold=True),
        "not_run": "not run",
        "needs_approval": click.style("NEEDS APPROVAL", fg="yellow", bold=True),
    }.get(m.status, m.status)
    op = " [prune]" if m.operation == "destroy" else ""
    counts = ", ".join(f"{n} to {k}" for k, n in sorted(m.counts.items()) if k != ActionKind.NOOP)
    lines = [f"{click.style(who, bold=True)} @ {m.commit[:12]}{op}: {what}" + (f" ({counts})" if counts else "")]
    for a in (m.plan or {}).get("actions", []):
        if a["action"] == ActionKind.NOOP:
            continue
        lines.append(f"  {symbol(a['action'])} {a['address']} ({a['type']}): {a['action']} - {a.get('reason', '')}")
        lines += [
            f"      {'.'.join(map(str, c['path']))}: {change_text(c.get('before'), c.get('after'), '->')}"
            for c in a.get("changes", [])
        ]
    lines += [f"  warning: {w}" for w in m.warnings]
    lines += [f"  error: {e}" for e in m.errors]
    if m.approval_missing:
        lines.append(f"  approval missing: {m.approval_missing}")
    return lines


def execute(ctx: click.Context, kw: dict[str, Any], *, apply: bool, detailed: bool = False) -> int:
    """Run gitops once and report; returns the exit code."""
    from ..gitops import run

    as_json = kw["as_json"]

    def show(m: Any) -> None:
        if not as_json:
            for line in mission_lines(m):
                click.echo(line)

    side_by_side = kw["jobs"] > 1

    def on_event(event: dict[str, Any]) -> None:
        if event.get("event") == "mission_started":  # on a worker (--executor celery)
            click.echo(f"{event.get('mission_path')}: running on worker {event.get('worker')}", err=True)
        elif event.get("event") == EventKind.WARNING and not as_json:
            # missions side by side: each line says whose it is (one write per line, never torn)
            who = f"{event['mission_path']}: " if side_by_side and event.get("mission_path") else ""
            click.echo(f"warning: {who}{event.get('message')}", err=True)

    elsewhere = None
    if kw.get("executor") == "celery":  # one task per mission, on the workers
        from ..distributed.missions import MissionDispatch

        elsewhere = MissionDispatch(kw.get("broker"), kw["queue"], emit=on_event)
    try:
        report = run(
            request_from(kw, apply=apply),
            registry=registry_from(ctx),
            emit=on_event,
            on_mission=show,
            elsewhere=elsewhere,
        )
    finally:
        if elsewhere is not None:
            elsewhere.close()
    if kw.get("report_markdown"):
        kw["report_markdown"].write_text(report.to_markdown(), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        failed, not_run = len(report.failed), len(report.not_run)
        click.echo(
            f"{len(report.missions)} mission(s) at {report.commit[:12]}"
            + (f", {failed} failed" if failed else "")
            + (f", {not_run} not run (--fail-fast)" if not_run else "")
            + "."
        )
    return report.exit_code(detailed)


@click.group(name="gitops")
def command() -> None:
    """Plan or apply every mission of a git repository at one commit."""


@command.command(name="plan")
@gitops_options
@report_options
@shared(
    "detailed_exitcode",
    detailed_exitcode="Exit 0: all in sync, 2: changes, 8: changes over a cost ceiling, 1: any error.",
)
@click.option("--refresh-only", is_flag=True, help="Report drift (objects changed outside skyform) only.")
@click.pass_context
def plan(ctx: click.Context, detailed_exitcode: bool, **kw: Any) -> int:
    """Plan the missions of REPO at REF (nothing is changed)."""
    return execute(ctx, kw, apply=False, detailed=detailed_exitcode)


@command.command(name="apply")
@gitops_options
@report_options
@shared(
    "executor",
    "broker",
    executor="celery: each mission is one task on skyform worker processes behind --broker (state must be "
    "shared: --state postgresql://...); local (default) or another executor plugin: missions run here, "
    "their provider calls on that executor. Env: SKYFORM_EXECUTOR.",
)
@click.option(
    "--queue",
    default="default",
    show_default=True,
    metavar="NAME",
    help="The worker queue missions are sent to with --executor celery (skyform worker --queues NAME).",
)
@click.pass_context
def apply(ctx: click.Context, **kw: Any) -> int:
    """Plan the missions of REPO at REF and apply those with changes (no prompt)."""
    return execute(ctx, kw, apply=True)


@command.command(name="approve")
@gitops_options
@click.option("--as", "approver", metavar="NAME", help="Who approves (default: the login name).")
@click.option("--expires", default="24h", show_default=True, metavar="DURATION", help="How long it stays usable.")
@click.option("--max-cost", type=click.FloatRange(min=0), metavar="N", help="Refuse the apply above this total.")
@click.pass_context
def approve(ctx: click.Context, approver: str | None, expires: str, max_cost: float | None, **kw: Any) -> int:
    """Write approvals/<mission>.json into REPO (a clone) for each mission whose plan needs one.

    The missions are planned exactly as `gitops apply` will plan them, against the same
    state; commit the files with the change: the reviewed pull request is the approval.
    """
    from ..approvals.binding import default_approver
    from ..approvals.gitops_file import relative, write
    from ..errors import UsageError
    from ..gitops import run
    from .approve import seconds_of

    root = Path(kw["repository"])
    if not root.is_dir():
        raise UsageError(f"{root} is not a directory: gitops approve writes into a clone's work tree")
    seconds = seconds_of(expires)
    report = run(request_from(kw, apply=False), registry=registry_from(ctx))
    for m in report.missions:
        need = (m.plan or {}).get("approval") or {}
        if m.status == "failed" or m.plan is None:
            click.echo(f"{m.path}: not approved, it failed to plan: {'; '.join(m.errors)}", err=True)
        elif not need.get("needed"):
            click.echo(f"{m.path} ({m.name}): needs no approval")
        else:
            write(root, m.plan, approver=approver or default_approver(), expires_in=seconds, max_cost=max_cost)
            click.echo(
                f"{m.path} ({m.name}): wrote {relative(str(m.name))} ({'; '.join(need.get('why', []))}); "
                "commit it with the change"
            )
    return ExitCode.ERROR if report.failed else ExitCode.OK


@command.command(name="validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, exists=True))
@shared("secrets_file", secrets_file="Secrets for provider settings.")
@click.pass_context
def validate(ctx: click.Context, paths: tuple[Path, ...], secrets_file: Path | None) -> int:
    """Validate the missions that PATHS belong to (files or directories; default: all under .).

    For pre-commit: given the changed files, each mission directory holding one of them is
    validated once; YAML files outside any mission are ignored, unless they mention
    ``Mission`` and do not parse (a broken mission is reported, never skipped).
    """
    from ..api import load
    from ..errors import SpecError
    from ..gitops.discovery import discover, scan_directory
    from ..spec.secrets import Secrets
    from .output import Printer, diagnostics_text

    missions: list[Path] = []
    unreadable: list[Diagnostic] = []  # files that may be missions but do not parse
    for path in paths or (Path("."),):
        if path.is_dir():
            scanned = discover(path)
            found = [path / m for m in scanned.missions]
            unreadable += [d for problems in scanned.problems.values() for d in problems]
        else:
            owner = next((d for d in (path.parent, *path.parent.parents) if scan_directory(d)[0]), None)
            found = [owner] if owner is not None else []
            if owner is None:
                unreadable += [d for d in scan_directory(path.parent)[1] if d.location and d.location.file == str(path)]
        missions += [m for m in found if m.resolve() not in {x.resolve() for x in missions}]
    registry = registry_from(ctx)
    secrets = Secrets.from_file(secrets_file)
    printer = Printer()
    for line in diagnostics_text(unreadable, printer):
        printer.line(line)
    invalid = len(unreadable)
    for mission in missions:
        try:
            loaded, warnings = load(mission, registry, secrets=secrets)
        except SpecError as exc:
            invalid += 1
            for line in diagnostics_text(exc.diagnostics, printer):
                printer.line(line)
            printer.line(f"{mission}: {exc.message}")
            continue
        for line in diagnostics_text(warnings, printer):
            printer.line(line)
        printer.line(f"{mission}: valid ({loaded.name}, {len(loaded.resources)} resource(s))")
    if not missions and not unreadable:
        printer.line("no missions to validate")
    return ExitCode.INVALID_SPEC if invalid else ExitCode.OK


__all__ = ["ExitCode", "command", "gitops_options", "registry_from"]
