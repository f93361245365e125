"""The command-line options shared by plan/apply/destroy and gitops, defined once.

Each shared option is one row of :data:`OPTIONS`: its flags, type, default and help.
Commands take the rows they need by name with :func:`shared`; a command may word the help
for its own case (gitops keeps its state per repository), never change the flag, the type
or the default. ``--detailed-exitcode`` also tells the CLI's error boundary (through the
run's context object, never a module-level flag) that every error exits 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from ..providers.base import DEFAULT_PARALLELISM
from .main import DETAILED_EXITCODE

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _remember_detailed(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        root = ctx.find_root()
        root.ensure_object(dict)
        root.obj[DETAILED_EXITCODE] = True
    return value


@dataclass(frozen=True)
class SharedOption:
    """One shared option: click's declarations and attributes."""

    decls: tuple[str, ...]
    attrs: Mapping[str, Any] = field(default_factory=dict)

    def decorator(self, help: str | None = None) -> Decorator:
        """The click option, with ``help`` worded for one command if given."""
        return click.option(*self.decls, **{**self.attrs, **({"help": help} if help else {})})


OPTIONS: dict[str, SharedOption] = {
    "sandbox": SharedOption(
        ("--sandbox",), {"is_flag": True, "help": "Run against local simulators of every service (no credentials)."}
    ),
    "secrets_file": SharedOption(
        ("--secrets-file",),
        {
            "type": click.Path(path_type=Path, dir_okay=False),
            "help": "YAML file of NAME: value secrets (else env SKYFORM_SECRET_<NAME>).",
        },
    ),
    "target": SharedOption(
        ("--target", "targets"),
        {"multiple": True, "metavar": "ID", "help": "Limit to this resource and what it depends on (repeatable)."},
    ),
    "exclude": SharedOption(
        ("--exclude", "excludes"),
        {"multiple": True, "metavar": "ID", "help": "Leave out this resource and what depends on it (repeatable)."},
    ),
    "parallelism": SharedOption(
        ("--parallelism",),
        {
            "type": click.IntRange(1, 1000),
            "default": DEFAULT_PARALLELISM,
            "show_default": True,
            "help": "Concurrent provider calls (each provider's own limit still applies).",
        },
    ),
    "refresh": SharedOption(
        ("--refresh",),
        {
            "type": click.BOOL,
            "default": True,
            "metavar": "BOOL",
            "help": "Read remote objects before planning (--refresh=false skips).",
        },
    ),
    "jobs": SharedOption(
        ("--jobs", "-j"),
        {
            "type": click.IntRange(1, 256),
            "default": 1,
            "show_default": True,
            "metavar": "N",
            "help": "Missions run side by side (each under its own lock and state); the report keeps "
            "the missions' order.",
        },
    ),
    "fail_fast": SharedOption(
        ("--fail-fast",),
        {"is_flag": True, "help": "Start no further mission once one has failed (those are reported as not run)."},
    ),
    "json": SharedOption(("--json", "as_json"), {"is_flag": True, "help": "Machine-readable JSON lines on stdout."}),
    "state": SharedOption(
        ("--state", "state_url"),
        {
            "metavar": "URL",
            "envvar": "SKYFORM_STATE",
            "help": "State backend URL (default sqlite:///state.db in the mission's .skyform/; "
            "postgresql://... for teams). Env: SKYFORM_STATE.",
        },
    ),
    "executor": SharedOption(
        ("--executor",),
        {
            "metavar": "NAME",
            "default": "local",
            "show_default": True,
            "envvar": "SKYFORM_EXECUTOR",
            "help": "Where provider calls run: local (a thread pool here) or celery (skyform worker "
            "processes behind --broker); plugins add others. Env: SKYFORM_EXECUTOR.",
        },
    ),
    "broker": SharedOption(
        ("--broker",),
        {
            "metavar": "URL",
            "envvar": "SKYFORM_BROKER",
            "help": "The Celery broker of --executor celery and skyform worker (default "
            "amqp://guest:guest@127.0.0.1:5672//; redis://HOST:6379/0 too). Env: SKYFORM_BROKER.",
        },
    ),
    "worker_timeout": SharedOption(
        ("--worker-timeout",),
        {
            "metavar": "SECONDS",
            "type": click.FloatRange(min=0, min_open=True),
            "default": 300.0,
            "show_default": True,
            "envvar": "SKYFORM_WORKER_TIMEOUT",
            "help": "With --executor celery: fail an operation's resource when no worker took it (nobody serves "
            "its queue) or kept it (its worker stopped) for this long. Env: SKYFORM_WORKER_TIMEOUT.",
        },
    ),
    "ack_irreversible": SharedOption(
        ("--ack-irreversible",),
        {
            "is_flag": True,
            "help": "Go ahead with actions the plan marks irreversible (money spent or data lost for good); "
            "without it, or an approval of the saved plan, apply refuses them (exit 7).",
        },
    ),
    "detailed_exitcode": SharedOption(
        ("--detailed-exitcode",),
        {
            "is_flag": True,
            "callback": _remember_detailed,
            "help": "Exit 0: no changes, 1: error, 2: changes present, 8: changes with an estimate above its "
            "max_cost or the mission's total above its budget.",
        },
    ),
}


def shared(*names: str, **help: str) -> Decorator:
    """Add the shared options ``names``, in that order on ``--help``; ``help``: per-command wording."""
    unknown = set(help) - set(names)
    if unknown:
        raise ValueError(f"help given for options not added: {sorted(unknown)}")

    def add(f: Callable[..., Any]) -> Callable[..., Any]:
        for name in reversed(names):
            f = OPTIONS[name].decorator(help.get(name))(f)
        return f

    return add
