"""An observer plugin for the engine tests: appends every observer-hook call to a JSON-lines file.

The file is named by ``SKYFORM_TEST_OBSERVER_LOG``; register with
``SKYFORM_PLUGIN_MODULES=fakeprov.plugin,fakeprov.observer``.
"""

from __future__ import annotations

import json
import os
from typing import Any

import click

from skyform import hookimpl


def _log(hook: str, **data: Any) -> None:
    path = os.environ.get("SKYFORM_TEST_OBSERVER_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps({"hook": hook, **data}, default=str) + "\n")


@hookimpl
def skyform_plan_ready(mission: str, plan: dict[str, Any]) -> None:
    _log("plan_ready", mission=mission, counts=plan.get("counts"))


@hookimpl
def skyform_resource_transition(
    mission: str, address: str, type: str, before: str | None, after: str, detail: dict[str, Any]
) -> None:
    _log("transition", mission=mission, address=address, type=type, before=before, after=after)
    if os.environ.get("SKYFORM_TEST_OBSERVER_FAIL"):  # a notifier whose webhook is down
        raise ConnectionError("webhook https://hooks.example/notify is unreachable")


@hookimpl
def skyform_apply_finished(mission: str, result: dict[str, Any]) -> None:
    _log("apply_finished", mission=mission, ok=result.get("ok"), counts=result.get("counts"))


@click.command("fake-hello")
@click.argument("who", default="world")
def hello(who: str) -> int:
    """A command contributed by a plugin."""
    click.echo(f"hello, {who}")
    return 0


@hookimpl
def skyform_cli_commands() -> list[click.Command]:
    return [hello]
