"""Typed calls of the skyform hooks: the one place the engine talks to pluggy's hook relay.

In the spirit of tox 4's ``Plugin`` facade, each hook has a method with the hook's own
types and keyword-only arguments, so call sites are checked by mypy and a renamed argument
is caught here, not at run time in a plugin. Registration hooks are called one plugin at a
time (through ``subset_hook_caller``, so tracing and hook wrappers still apply) because the
registry must say which plugin returned what; observer hooks go to every plugin at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pluggy

from ..errors import PluginError

if TYPE_CHECKING:
    import click

    from ..apply.executor import ExecutorBackend
    from ..state.base import StateBackend
    from .base import Provider

log = logging.getLogger("skyform.plugins")


@dataclass
class PluginInfo:
    """Where a plugin came from, for messages and ``skyform providers``."""

    name: str
    distribution: str
    version: str
    module: str


class Hooks:
    """The skyform hooks as typed methods over one plugin manager."""

    def __init__(self, pm: pluggy.PluginManager, *, tracing: bool = False) -> None:
        self._pm = pm
        self._tracing = tracing

    # -- registration hooks: results of one plugin --------------------------------------
    def providers(self, plugin: object, origin: PluginInfo) -> list[Provider]:
        """What ``plugin`` returns from ``skyform_providers`` (unchecked: the registry checks)."""
        return self._registration("skyform_providers", plugin, origin)

    def state_backends(self, plugin: object, origin: PluginInfo) -> list[StateBackend]:
        """What ``plugin`` returns from ``skyform_state_backends``."""
        return self._registration("skyform_state_backends", plugin, origin)

    def executors(self, plugin: object, origin: PluginInfo) -> list[ExecutorBackend]:
        """What ``plugin`` returns from ``skyform_executors``."""
        return self._registration("skyform_executors", plugin, origin)

    def cli_commands(self, plugin: object, origin: PluginInfo) -> list[click.Command]:
        """What ``plugin`` returns from ``skyform_cli_commands``."""
        return self._registration("skyform_cli_commands", plugin, origin)

    def _registration(self, hook: str, plugin: object, origin: PluginInfo) -> list[Any]:
        caller = self._one_plugin(hook, plugin)
        if caller is None:
            return []
        if self._tracing:
            self._pm.trace.root.get("hook")(f"{hook} [plugin {origin.name}, distribution {origin.distribution}]")
        try:
            results = caller()
        except Exception as exc:  # third-party code: name the plugin, keep the cause
            raise PluginError(
                f"plugin {origin.name!r} ({origin.distribution}) failed in {hook}: {type(exc).__name__}: {exc}"
            ) from exc
        return [item for result in results for item in (result or ())]

    def _one_plugin(self, hook: str, plugin: object) -> Callable[..., list[Any]] | None:
        """A caller of ``hook`` restricted to ``plugin``, or None when it does not implement it."""
        relay = getattr(self._pm.hook, hook)
        if not any(impl.plugin is plugin for impl in relay.get_hookimpls()):
            return None
        others = [p for p in self._pm.get_plugins() if p is not plugin]
        return self._pm.subset_hook_caller(hook, remove_plugins=others)

    # -- lookup hooks: the first non-None answer wins -----------------------------------
    def console_url(
        self, *, type: str, remote_id: str | None, outputs: dict[str, Any], settings: dict[str, Any]
    ) -> str | None:
        """``skyform_console_url``: the object's page on its service, an http(s) address or
        None (a plugin that fails or answers anything else is logged, and there is no link)."""
        try:
            url = self._pm.hook.skyform_console_url(type=type, remote_id=remote_id, outputs=outputs, settings=settings)
        except Exception:  # a plugin bug must not break the page that asked
            log.exception("skyform_console_url failed for %s", type)
            return None
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            return None
        return url

    # -- observer hooks: every implementation is called ----------------------------------
    def plan_ready(self, *, mission: str, plan: dict[str, Any]) -> None:
        """``skyform_plan_ready``: a plan was computed (``plan`` is its JSON form)."""
        self._pm.hook.skyform_plan_ready(mission=mission, plan=plan)

    def resource_transition(
        self,
        *,
        mission: str,
        address: str,
        type: str,
        before: str | None,
        after: str,
        detail: dict[str, Any],
    ) -> None:
        """``skyform_resource_transition``: a resource's recorded status changed."""
        self._pm.hook.skyform_resource_transition(
            mission=mission,
            address=address,
            type=type,
            before=before,
            after=after,
            detail=detail,
        )

    def apply_finished(self, *, mission: str, result: dict[str, Any]) -> None:
        """``skyform_apply_finished``: an apply or destroy ended."""
        self._pm.hook.skyform_apply_finished(mission=mission, result=result)

    def reconcile_round(self, *, repository: str, results: list[dict[str, Any]]) -> None:
        """``skyform_reconcile_round``, one plugin at a time: one that raises is logged and skipped."""
        for impl in self._pm.hook.skyform_reconcile_round.get_hookimpls():
            caller = self._one_plugin("skyform_reconcile_round", impl.plugin)
            if caller is None:
                continue
            try:
                caller(repository=repository, results=results)
            except Exception:  # an observer must never stop the runner
                log.exception("reconcile observer %s failed", impl.plugin_name)
