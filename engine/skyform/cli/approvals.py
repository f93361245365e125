"""``skyform approvals ls`` and ``approvals revoke ID``: the approvals a mission's state holds.

An approval (``skyform approve PLANFILE``) is a standing permission to spend until it is
used or expires; whoever gave it must be able to see it and take it back. Revoking marks
it in the state database (who, when), so ``apply PLANFILE`` refuses it by name on every
machine sharing that state; the record stays, for the audit.
"""

from __future__ import annotations

import json
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import click

from ..errors import ExitCode, UsageError
from .common import MISSION, mission_and_names, open_mission_state, state_option
from .options import shared


def _status(approval: Any, now: float) -> str:
    """What the approval can still do: unused, used, expired or revoked."""
    if approval.revoked_at is not None:
        return "revoked"
    if approval.used_at is not None:
        return "used"
    if approval.expires_at <= now:
        return "expired"
    return "unused"


def _row(approval: Any, now: float) -> dict[str, Any]:
    from ..approvals.binding import summary

    return {"mission": approval.mission, **summary(approval), "status": _status(approval, now)}


@click.group(name="approvals")
def approvals() -> None:
    """List or revoke the approvals of saved plans (skyform approve)."""


@approvals.command(name="ls")
@MISSION
@state_option
@shared("json", json="Machine-readable JSON on stdout.")
def approvals_ls(mission: Path, state_url: str | None, as_json: bool) -> int:
    """List MISSION's approvals: plan digest, who, when, expiry, cap, used or not."""
    from ..approvals.binding import when

    _, name, store, _ = open_mission_state(mission, state_url)
    with closing(store):
        found = store.approvals(name)
    now = time.time()
    if as_json:
        click.echo(json.dumps([_row(a, now) for a in found], indent=2))
        return ExitCode.OK
    if not found:
        click.echo(f"No approvals recorded for mission {name}.")
        return ExitCode.OK
    click.echo(f"{'ID':<12}  {'PLAN':<19}  {'BY':<12}  {'APPROVED':<23}  {'EXPIRES':<23}  {'CAP':>10}  STATUS")
    for a in found:
        cap = f"{a.max_cost:,.2f}" if a.max_cost is not None else "-"
        status = _status(a, now)
        if status == "used" and a.used_at is not None:
            status += f" {when(a.used_at)}"
        elif status == "revoked" and a.revoked_at is not None:
            status += f" by {a.revoked_by} {when(a.revoked_at)}"
        click.echo(
            f"{a.id:<12}  {a.plan_digest[:19]:<19}  {a.approver:<12}  {when(a.created_at):<23}  "
            f"{when(a.expires_at):<23}  {cap:>10}  {status}"
        )
    return ExitCode.OK


@approvals.command(name="revoke")
@click.argument("words", nargs=-1, required=True, metavar="[MISSION] ID")
@click.option("--as", "revoker", metavar="NAME", help="Who revokes (default: the login name).")
@state_option
@shared("json", json="Machine-readable JSON on stdout.")
def approvals_revoke(words: tuple[str, ...], revoker: str | None, state_url: str | None, as_json: bool) -> int:
    """Revoke approval ID: apply of its plan is refused from now on, on every machine."""
    from ..approvals.binding import default_approver, when

    mission, (approval_id,) = mission_and_names(words, ("id",))
    _, name, store, _ = open_mission_state(mission, state_url)
    with closing(store):
        if approval_id not in {a.id for a in store.approvals(name)}:
            raise UsageError(
                f"no approval {approval_id!r} in the state of {name}",
                hint="`skyform approvals ls` lists them",
            )
        revoked = store.revoke_approval(approval_id, time.time(), revoker or default_approver())
    assert revoked is not None and revoked.revoked_at is not None  # it exists: checked above
    if as_json:
        click.echo(json.dumps({"event": "approval_revoked", **_row(revoked, time.time())}))
        return ExitCode.OK
    note = " (it was already used)" if revoked.used_at is not None else ""
    click.echo(
        f"Revoked approval {revoked.id} by {revoked.approver} of plan {revoked.plan_digest[:19]}… "
        f"(mission {name}){note}: revoked by {revoked.revoked_by} at {when(revoked.revoked_at)}."
    )
    return ExitCode.OK
