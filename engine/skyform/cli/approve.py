"""``skyform approve PLANFILE``: record an approval of exactly that saved plan.

The approval goes to the state database of the plan's mission (``--state``, as for
apply), so a team on PostgreSQL shares it; ``apply PLANFILE`` uses it once
(:mod:`skyform.approvals`).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import ExitCode, UsageError
from .options import shared


def seconds_of(text: str) -> float:
    """``--expires``: seconds from a duration (``30m``, ``24h``, ``7d``); UsageError otherwise."""
    from ..spec.envelope import parse_duration

    seconds = parse_duration(text)
    if seconds <= 0:
        raise UsageError(f"--expires {text!r} is not a duration", hint="write e.g. 30m, 24h or 7d")
    return seconds


@click.command()
@click.argument("planfile", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--as", "approver", metavar="NAME", help="Who approves (default: the login name).")
@click.option("--expires", default="24h", show_default=True, metavar="DURATION", help="How long it stays usable.")
@click.option("--max-cost", type=click.FloatRange(min=0), metavar="N", help="Refuse the apply above this total.")
@shared("state", "json")
def approve(
    planfile: Path, approver: str | None, expires: str, max_cost: float | None, state_url: str | None, as_json: bool
) -> int:
    """Approve the saved plan PLANFILE: apply PLANFILE may then go ahead once."""
    from ..approvals.binding import default_approver, record, summary, when
    from ..plan.model import Plan
    from ..providers.host import load_registry
    from ..state import open_store

    plan = Plan.load(planfile)
    seconds = seconds_of(expires)
    mission_dir = Path(plan.mission_path)
    mission_dir = mission_dir if mission_dir.is_dir() else mission_dir.parent
    store = open_store(state_url, mission_dir, load_registry().state_backends.values())
    try:
        approval = record(store, plan, approver=approver or default_approver(), expires_in=seconds, max_cost=max_cost)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({"event": "approval", **summary(approval)}))
        return ExitCode.OK
    cost = ", ".join(f"{v:,.2f} {k}" for k, v in approval.cost.items()) or "no estimate"
    click.echo(
        f"Approved {planfile} (plan {approval.plan_digest[:19]}…) of mission {plan.mission} as {approval.approver}."
    )
    click.echo(f"  cost: {cost}" + (f" (cap {max_cost:,.2f})" if max_cost is not None else ""))
    click.echo(f"  irreversible: {', '.join(approval.irreversible) or 'none'}")
    click.echo(f"  made against state serial {approval.serial}; expires {when(approval.expires_at)}; usable once.")
    over = [c for c, t in approval.cost.items() if max_cost is not None and t > max_cost]
    if over:
        click.echo(
            f"Warning: the plan's total in {', '.join(over)} is above --max-cost: apply will refuse it.", err=True
        )
    click.echo(f"Apply it with: skyform apply {planfile}")
    return ExitCode.OK
