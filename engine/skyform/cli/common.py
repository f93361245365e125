"""Options and plumbing shared by the commands that run a mission."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..providers.base import DEFAULT_PARALLELISM
from .options import shared

MISSION = click.argument("mission", type=click.Path(path_type=Path), default=".", required=False)


#: ``--state`` alone, for the commands that only read or edit state.
state_option = shared("state")

#: The options of plan/apply/destroy (the table is :data:`skyform.cli.options.OPTIONS`).
run_options = shared("sandbox", "secrets_file", "target", "exclude", "parallelism", "refresh", "json", "state")


def options_from(kw: dict[str, Any]) -> Any:
    from ..api import Options

    return Options(
        state_url=kw.get("state_url"),
        sandbox=kw.get("sandbox", False),
        secrets_file=kw.get("secrets_file"),
        parallelism=kw.get("parallelism", DEFAULT_PARALLELISM),
        refresh=kw.get("refresh", True),
        targets=list(kw.get("targets") or ()),
        excludes=list(kw.get("excludes") or ()),
        allow_forget=kw.get("forget", False),
        fail_fast=kw.get("fail_fast", False),
        detach=kw.get("detach", False),
    )


def emitter(as_json: bool) -> Callable[[dict[str, Any]], None]:
    from .output import ApplyView, JsonLines, Printer

    return JsonLines() if as_json else ApplyView(Printer())


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()
