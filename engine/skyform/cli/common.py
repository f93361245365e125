"""Options and plumbing shared by the commands that run a mission."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import click

MISSION = click.argument("mission", type=click.Path(path_type=Path), default=".", required=False)


def state_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--state", "state_url", metavar="URL", envvar="SKYFORM_STATE",
                        help="State backend URL (default sqlite:///state.db in the mission's .skyform/; "
                             "postgresql://... for teams). Env: SKYFORM_STATE.")(f)


def run_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options of plan/apply/destroy."""
    decorators: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.option("--sandbox", is_flag=True, help="Run against local simulators of every service (no credentials)."),
        click.option("--secrets-file", type=click.Path(path_type=Path, dir_okay=False),
                     help="YAML file of NAME: value secrets (else env SKYFORM_SECRET_<NAME>)."),
        click.option("--target", "targets", multiple=True, metavar="ID",
                     help="Limit to this resource and what it depends on (repeatable)."),
        click.option("--exclude", "excludes", multiple=True, metavar="ID",
                     help="Leave out this resource and what depends on it (repeatable)."),
        click.option("--parallelism", type=click.IntRange(1, 1000), default=10, show_default=True,
                     help="Concurrent provider calls."),
        click.option("--refresh", type=click.BOOL, default=True, metavar="BOOL",
                     help="Read remote objects before planning (--refresh=false skips)."),
        click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON lines on stdout."),
        state_option,
    ]
    for option in reversed(decorators):
        f = option(f)
    return f


def options_from(kw: dict[str, Any]) -> Any:
    from ..api import Options

    return Options(state_url=kw.get("state_url"), sandbox=kw.get("sandbox", False),
                   secrets_file=kw.get("secrets_file"), parallelism=kw.get("parallelism", 10),
                   refresh=kw.get("refresh", True), targets=list(kw.get("targets") or ()),
                   excludes=list(kw.get("excludes") or ()),
                   allow_forget=kw.get("forget", False), fail_fast=kw.get("fail_fast", False),
                   detach=kw.get("detach", False))


def emitter(as_json: bool) -> Callable[[dict[str, Any]], None]:
    from .output import ApplyView, JsonLines, Printer

    return JsonLines() if as_json else ApplyView(Printer())


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()
