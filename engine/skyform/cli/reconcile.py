"""``skyform reconcile REPO --interval 5m``: keep a repository's missions applied, in a loop.

Every round is a ``gitops apply`` of REF (fetched again for URLs); SIGTERM or Ctrl-C stops
the runner cleanly between steps. Each round's per-mission summaries go to the
``skyform_reconcile_round`` observer hook (notifiers, metrics) and to the output.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from .gitops import gitops_options, mission_lines, registry_from, request_from
from .options import shared


@click.command(name="reconcile")
@gitops_options
@click.option(
    "--interval",
    default="5m",
    show_default=True,
    metavar="DURATION",
    help="Time from the start of one round to the start of the next (30s, 5m, 1h).",
)
@click.option("--max-rounds", type=click.IntRange(1), default=None, help="Stop after this many rounds.")
@shared("json", json="One JSON line per round on stdout.")
@click.pass_context
def command(ctx: click.Context, interval: str, max_rounds: int | None, as_json: bool, **kw: Any) -> int:
    """Fetch, plan and apply the missions of REPO every --interval until stopped."""
    from ..gitops.reconcile import Reconciler, parse_interval, round_results

    seconds = parse_interval(interval)
    kw.setdefault("since", None)

    def on_round(number: int, report: Any, error: BaseException | None) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "round": number,
                        "at": stamp,
                        "ok": error is None and report.ok,
                        "commit": report.commit if report else None,
                        "missions": round_results(report, error),
                    },
                    sort_keys=True,
                )
            )
            return
        if report is None:
            message = getattr(error, "message", None) or str(error)
            click.echo(f"round {number} at {stamp}: failed: {message} (retrying next round)")
            return
        click.echo(
            f"round {number} at {stamp}: {report.commit[:12]}, {len(report.missions)} mission(s)"
            + (f", {len(report.failed)} failed" if report.failed else "")
        )
        for m in report.missions:
            if m.status != "in_sync":
                for line in mission_lines(m):
                    click.echo(f"  {line}")

    reconciler = Reconciler(
        request_from(kw, apply=True),
        interval=seconds,
        registry=registry_from(ctx),
        on_round=on_round,
        max_rounds=max_rounds,
    )
    code = reconciler.run()
    if reconciler.shutdown.requested and not as_json:
        click.echo("reconcile: stopped.")
    return code
