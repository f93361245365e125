"""The skyform hook specifications: the whole plugin API, in two groups.

Registration hooks return typed objects and are collected from every plugin (results in
plugin registration order, later-registered plugins first, as pluggy calls them; the engine
sorts by name where order matters). Observer hooks receive events and return nothing.

Every hook is called with keyword arguments only. Arguments may be added in later versions,
never renamed or removed without a deprecation period; an implementation may accept any
subset of the arguments (pluggy passes only the ones it names).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from ..apply.executor import ExecutorBackend
    from ..state.base import StateBackend
    from .base import Provider

# spec bodies never run (pluggy reads only signatures), hence the empty-body ignores below
hookspec = pluggy.HookspecMarker("skyform")


# -- registration hooks -------------------------------------------------------------------


@hookspec
def skyform_providers() -> Iterable[Provider]:  # type: ignore[empty-body]
    """Return the providers this plugin offers.

    All results are collected; two providers with one name are an error naming both
    distributions.
    """


@hookspec
def skyform_state_backends() -> Iterable[StateBackend]:  # type: ignore[empty-body]
    """Return state backends, each claiming URL schemes (``sqlite``, ``postgresql``).

    All results are collected; the first backend claiming a scheme wins, and a second claim
    of the same scheme is an error naming both plugins.
    """


@hookspec
def skyform_executors() -> Iterable[ExecutorBackend]:  # type: ignore[empty-body]
    """Return executors: where an apply's provider calls run (``apply --executor NAME``).

    All results are collected; two executors with one name are an error naming both
    plugins. The engine's ``local`` (a thread pool) and ``celery`` (workers behind a
    broker) are registered through this hook like any other.
    """


@hookspec
def skyform_cli_commands() -> Iterable[click.Command]:  # type: ignore[empty-body]
    """Return extra ``skyform`` sub-commands.

    All results are collected and added to the CLI; a name already taken is an error.
    """


# -- lookup hooks: the first answer wins --------------------------------------------------


@hookspec(firstresult=True)
def skyform_console_url(
    type: str, remote_id: str | None, outputs: dict[str, Any], settings: dict[str, Any]
) -> str | None:
    """Return the address of a recorded object's page on its service, or None.

    ``type`` is the resource type (``cvat.Task``), ``remote_id`` and ``outputs`` what the
    state records of it, ``settings`` the mission's connection settings of its provider as
    they may be shown (a secret is ``(sensitive)``). ``skyform ui`` links a resource's page
    to it (only an ``http`` or ``https`` address; others are dropped). The first non-None
    result wins: an implementation returns None for a type that is not its own.
    """


# -- observer hooks -----------------------------------------------------------------------


@hookspec
def skyform_plan_ready(mission: str, plan: dict[str, Any]) -> None:
    """Called once a plan is computed, with its JSON form. Every implementation is called."""


@hookspec
def skyform_resource_transition(
    mission: str, address: str, type: str, before: str | None, after: str, detail: dict[str, Any]
) -> None:
    """Called on every recorded status change of a resource during apply or destroy.

    ``before``/``after`` are statuses (``creating``, ``running``, ``ready``, ``failed``,
    ``deleting``, ``deleted``...). Called from the scheduler thread: keep it quick.
    Every implementation is called.
    """


@hookspec
def skyform_apply_finished(mission: str, result: dict[str, Any]) -> None:
    """Called when an apply or destroy ends (also when it failed or was interrupted).

    ``result`` holds ``ok`` (bool), ``counts`` per action and ``failed`` addresses. Every
    implementation is called.
    """


@hookspec
def skyform_reconcile_round(repository: str, results: list[dict[str, Any]]) -> None:
    """Called after each round of ``skyform reconcile`` with one summary per mission.

    Every implementation is called; an exception in one is logged and does not stop the
    runner.
    """
