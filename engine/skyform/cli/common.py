"""Options and plumbing shared by the commands that run a mission."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from ..providers.base import DEFAULT_PARALLELISM
from .options import shared

if TYPE_CHECKING:
    from ..providers.host import Registry
    from ..spec.mission import Mission
    from ..state.base import StateStore

MISSION = click.argument("mission", type=click.Path(path_type=Path), default=".", required=False)


#: ``--state`` alone, for the commands that only read or edit state.
state_option = shared("state")

#: The options of plan/apply/destroy (the table is :data:`skyform.cli.options.OPTIONS`).
run_options = shared("sandbox", "secrets_file", "target", "exclude", "parallelism", "refresh", "json", "state")

#: Where apply's and destroy's provider calls run (the table is :data:`skyform.cli.options.OPTIONS`).
executor_options = shared("executor", "broker", "worker_timeout")


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
        executor=kw.get("executor") or "local",
        broker=kw.get("broker"),
        worker_timeout=kw.get("worker_timeout"),
    )


def emitter(as_json: bool) -> Callable[[dict[str, Any]], None]:
    from .output import ApplyView, JsonLines, Printer

    return JsonLines() if as_json else ApplyView(Printer())


def is_interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


class MissionState(NamedTuple):
    """A mission loaded for reading its state: the commands that inspect, never plan."""

    mission: Mission
    name: str
    store: StateStore
    registry: Registry


def open_mission_state(directory: Path, state_url: str | None) -> MissionState:
    """The mission at ``directory`` (loaded, not validated against remote facts) and its store.

    One registry serves both the state backends and the caller (catalog resolves types
    with it), so the entry points are read once per command.
    """
    from ..providers.host import load_registry
    from ..spec.mission import load
    from ..state import open_store

    loaded = load(directory)
    registry = load_registry()
    store = open_store(state_url, loaded.directory, registry.state_backends.values())
    return MissionState(loaded, loaded.name, store, registry)


def mission_and_names(words: tuple[str, ...], names: tuple[str, ...]) -> tuple[Path, list[str]]:
    """``[MISSION] NAMES...``: the mission directory is optional and comes first (default .)."""
    from ..errors import UsageError

    if len(words) == len(names):
        return Path("."), list(words)
    if len(words) == len(names) + 1:
        return Path(words[0]), list(words[1:])
    raise UsageError(f"expected [MISSION] {' '.join(n.upper() for n in names)}, got {len(words)} argument(s)")
