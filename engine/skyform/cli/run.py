"""``skyform plan``, ``apply`` and ``destroy``."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import ExitCode, Interrupted, PlanRefused
from ..events import EventKind
from .common import MISSION, emitter, executor_options, is_interactive, options_from, run_options
from .options import shared


def _print_plan(plan: Any, as_json: bool) -> None:
    from .output import Printer, plan_text

    if as_json:
        from ..redact import redact

        click.echo(redact(json.dumps({"event": EventKind.PLAN, **plan.to_json()})))
        return
    printer = Printer()
    for line in plan.warnings:
        printer.line(printer.style("Warning: ", "yellow") + line)
    for line in plan_text(plan, printer):
        printer.line(line)


@click.command()
@MISSION
@run_options
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), help="Save the plan to FILE.")
@shared("detailed_exitcode")
@click.option("--destroy", "destroy_mode", is_flag=True, help="Plan the destruction of every resource.")
@click.option("--refresh-only", is_flag=True, help="Only report objects changed outside skyform (drift).")
@click.option("--forget", is_flag=True, help="Plan resources the API cannot delete as removed from state.")
def plan(
    mission: Path,
    out: Path | None,
    detailed_exitcode: bool,
    destroy_mode: bool,
    refresh_only: bool,
    as_json: bool,
    **kw: Any,
) -> int:
    """Show what apply would change in MISSION (a file or directory; default: .)."""
    from ..api import Session

    mode = "destroy" if destroy_mode else ("refresh-only" if refresh_only else "apply")
    with Session(mission, options_from(kw), emit=emitter(as_json)) as session:
        the_plan = session.plan(mode)
    _print_plan(the_plan, as_json)
    if out is not None:
        the_plan.save(out)
        if not as_json:
            click.echo(f"Saved the plan to {out}. Apply exactly it with: skyform apply {out}")
    if detailed_exitcode and the_plan.has_changes:
        return ExitCode.OVER_BUDGET if the_plan.budget else ExitCode.CHANGES
    return ExitCode.OK


def _approve(auto_approve: bool, what: str) -> None:
    if auto_approve:
        return
    if not is_interactive():
        raise PlanRefused(
            f"{what} needs approval, and there is no terminal to ask on",
            hint="review the plan, then run again with --auto-approve",
        )
    answer = click.prompt(f"Do you want to {what}? Only 'yes' will be accepted", default="", show_default=False)
    if answer.strip() != "yes":
        raise PlanRefused(f"{what} cancelled")


def _execute(
    session: Any,
    the_plan: Any,
    as_json: bool,
    auto_approve: bool,
    what: str,
    *,
    acknowledged: bool = False,
    approval: Any = None,
) -> int:
    from ..api import outcome_error

    _print_plan(the_plan, as_json)
    if not the_plan.has_changes:
        if the_plan.mode == "apply":  # nothing to do, but a broken output is still said
            session.upgrade_state(the_plan)  # and records in an older form are written in today's
            problems = session.output_errors()
            if problems:
                from ..errors import SpecError

                raise SpecError(problems)
        return ExitCode.OK
    # the engine's gate (budget, ack, approvals, policy), before the prompt: a refusal has
    # nothing to ask about, and the apply below goes through with this admission
    session.admit(the_plan, acknowledged=acknowledged, approval=approval)
    _approve(auto_approve, what)
    state: dict[str, Any] = {}

    def on_sigint(signum: int, frame: Any) -> None:
        if state.get("scheduler") is None or state.get("interrupted"):
            raise KeyboardInterrupt
        state["interrupted"] = True
        state["scheduler"].interrupt()
        sys.stderr.write(
            "\nInterrupt received: finishing in-flight calls and recording state "
            "(Ctrl-C again to stop at once; the next apply resumes safely).\n"
        )

    previous = signal.signal(signal.SIGINT, on_sigint)
    view = session.emit
    if hasattr(view, "begin"):
        view.begin(sum(1 for a in the_plan.actions if a.changes_anything))
    try:
        outcome = session.apply(the_plan, interrupt_handle=lambda s: state.__setitem__("scheduler", s))
    finally:
        signal.signal(signal.SIGINT, previous)
        if hasattr(view, "end"):
            view.end()
    _summary(session, the_plan, outcome, as_json, what)
    if outcome.interrupted:
        raise Interrupted(
            "apply was interrupted; state is recorded",
            hint="run `skyform apply` again to resume (running remote jobs are waited for)",
        )
    error = outcome_error(outcome, session.output_problems)
    if error is not None:
        raise error
    return ExitCode.OK


def _summary(session: Any, the_plan: Any, outcome: Any, as_json: bool, what: str) -> None:
    from ..apply.summary import ApplySummary
    from .output import Printer

    summary = ApplySummary.of(the_plan, outcome)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "event": EventKind.SUMMARY,
                    "ok": outcome.ok,
                    "done": summary.changed,
                    "counts": summary.counts,
                    "failed": outcome.failed,
                    "skipped": outcome.skipped,
                    "detached": outcome.detached,
                }
            )
        )
        return
    printer = Printer()
    verb = "Destroy" if what.startswith("destroy") else "Apply"
    counted = summary.text(destroy=verb == "Destroy")
    if outcome.ok:
        printer.line(printer.style(f"{verb} complete!", "green", True) + f" Resources: {counted}.")
    else:
        printer.line(printer.style(f"{verb} finished with errors:", "red", True) + f" Resources: {counted}.")
    if outcome.detached:
        printer.line(
            f"{len(outcome.detached)} remote job(s) still running: `skyform status` shows them; "
            "`skyform apply` again waits for them."
        )
    store = session.store
    state = store.mission(session.mission.name) if store else None
    if state and state.outputs and verb == "Apply":
        printer.line("")
        printer.line("Outputs:")
        from .output import shown

        for name, value in state.outputs.items():
            printer.line(f"  {name} = {json.dumps(shown(value))}")


@click.command()
@click.argument("mission", type=click.Path(path_type=Path), default=".", required=False)
@run_options
@executor_options
@click.option("--auto-approve", is_flag=True, help="Skip the confirmation prompt (needed without a terminal).")
@shared("ack_irreversible")
@click.option("--fail-fast", is_flag=True, help="Stop everything at the first failure.")
@click.option("--detach", is_flag=True, help="Submit remote jobs and return; apply again waits for them.")
@click.option("--refresh-only", is_flag=True, help="Accept changes made outside skyform into state.")
@click.option("--forget", is_flag=True, help="Drop resources the API cannot delete from state.")
def apply(
    mission: Path, as_json: bool, auto_approve: bool, ack_irreversible: bool, refresh_only: bool, **kw: Any
) -> int:
    """Apply MISSION (a directory or file; default .), or a plan FILE saved by `plan -o`."""
    from ..api import Session
    from ..plan.file import kind_of
    from ..plan.model import Plan

    saved = None
    if kind_of(mission) == "plan":
        saved = Plan.load(mission)
        mission = Path(saved.mission_path)
        kw["targets"], kw["excludes"] = saved.targets, saved.excludes
    with Session(mission, options_from(kw), emit=emitter(as_json)) as session, session.holding_lock("apply"):
        if saved is not None:
            from ..approvals.gate import StoredApprovals

            session.check_fresh(saved)
            return _execute(
                session,
                saved,
                as_json,
                True,
                "apply the saved plan",
                acknowledged=ack_irreversible,
                approval=StoredApprovals(),
            )
        the_plan = session.plan("refresh-only" if refresh_only else "apply")
        return _execute(
            session, the_plan, as_json, auto_approve, "perform these actions", acknowledged=ack_irreversible
        )


@click.command()
@MISSION
@run_options
@executor_options
@click.option("--auto-approve", is_flag=True, help="Skip the confirmation prompt (needed without a terminal).")
@shared("ack_irreversible")
@click.option("--fail-fast", is_flag=True, help="Stop everything at the first failure.")
@click.option("--forget", is_flag=True, help="Drop resources the API cannot delete from state.")
@click.option("--purge-artifacts", is_flag=True, help="Also delete downloaded artifacts under .skyform/artifacts.")
def destroy(
    mission: Path, as_json: bool, auto_approve: bool, ack_irreversible: bool, purge_artifacts: bool, **kw: Any
) -> int:
    """Delete every resource MISSION created, in reverse dependency order."""
    from ..api import Session

    with Session(mission, options_from(kw), emit=emitter(as_json)) as session, session.holding_lock("destroy"):
        the_plan = session.plan("destroy")
        code = _execute(
            session, the_plan, as_json, auto_approve, "destroy these resources", acknowledged=ack_irreversible
        )
        if purge_artifacts:
            import shutil

            shutil.rmtree(session.mission.state_dir / "artifacts", ignore_errors=True)
        return code
