"""Builds the plugin manager and the registry of what plugins offer.

Plugins are found through the entry-point group ``skyform`` - the built-in providers and
state backends exactly like third-party ones. Nothing is loaded at import time: the CLI
calls :func:`load_registry` when a command needs providers, and tests hand it the plugin
objects they want.

Escape hatches: ``SKYFORM_DISABLE_PLUGIN_AUTOLOAD=1`` loads no entry points (then
``SKYFORM_PLUGINS=name,name`` loads just those); ``SKYFORM_PLUGIN_MODULES=pkg.mod,...``
registers importable modules as plugins without installing them (for development and
tests); ``SKYFORM_TRACE_HOOKS=1`` traces every hook call to stderr.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Iterable

import pluggy

from . import hookspecs
from ..errors import PluginError
from .base import Provider, ResourceKind
from ..state.base import StateBackend

GROUP = "skyform"


@dataclass
class PluginInfo:
    """Where a plugin came from, for messages and ``skyform providers``."""

    name: str
    distribution: str
    version: str
    module: str


@dataclass
class Registry:
    """Providers, state backends and CLI commands contributed by the loaded plugins."""

    pm: pluggy.PluginManager
    providers: dict[str, Provider] = field(default_factory=dict)
    provider_origin: dict[str, PluginInfo] = field(default_factory=dict)
    state_backends: dict[str, StateBackend] = field(default_factory=dict)
    cli_commands: list[Any] = field(default_factory=list)

    def resolve_type(self, type_name: str) -> tuple[Provider, ResourceKind] | None:
        """``"nodeodm.Task"`` → (provider, kind), or None when unknown."""
        provider_name, _, kind_name = type_name.partition(".")
        provider = self.providers.get(provider_name)
        if provider is None:
            return None
        kind = provider.kind(kind_name)
        return None if kind is None else (provider, kind)

    def all_types(self) -> list[str]:
        return sorted(f"{p.name}.{k.name}" for p in self.providers.values() for k in p.kinds)


def build_plugin_manager(plugins: Iterable[object] = (), *, autoload: bool | None = None) -> pluggy.PluginManager:
    """A plugin manager with the hookspecs, entry-point plugins (unless disabled) and ``plugins``."""
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    if autoload is None:
        autoload = os.environ.get("SKYFORM_DISABLE_PLUGIN_AUTOLOAD", "") in ("", "0")
    only = {n.strip() for n in os.environ.get("SKYFORM_PLUGINS", "").split(",") if n.strip()}
    if autoload or only:
        _load_entry_points(pm, only=None if autoload else only)
    for module_name in [m.strip() for m in os.environ.get("SKYFORM_PLUGIN_MODULES", "").split(",") if m.strip()]:
        _register_module(pm, module_name)
    for plugin in plugins:
        pm.register(plugin)
    if os.environ.get("SKYFORM_TRACE_HOOKS", "") not in ("", "0"):
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
    return pm


def _load_entry_points(pm: pluggy.PluginManager, only: set[str] | None) -> None:
    seen: dict[str, PluginInfo] = {}
    for ep in sorted(metadata.entry_points(group=GROUP), key=lambda e: e.name):
        if only is not None and ep.name not in only:
            continue
        dist = ep.dist.name if ep.dist is not None else "?"
        version = ep.dist.version if ep.dist is not None else "?"
        info = PluginInfo(ep.name, dist, version, ep.value)
        if ep.name in seen:
            if seen[ep.name].module == ep.value:
                continue  # the same distribution seen twice on sys.path
            raise PluginError(
                f"plugin name {ep.name!r} is claimed by two distributions: "
                f"{seen[ep.name].distribution} ({seen[ep.name].module}) and {dist} ({ep.value})",
                hint=f"uninstall one of them: pip uninstall {dist}",
            )
        try:
            module = ep.load()
        except Exception as exc:  # any import failure of third-party code
            raise PluginError(
                f"plugin {ep.name!r} ({ep.value}) from distribution {dist} {version} failed to load: "
                f"{type(exc).__name__}: {exc}",
                hint=f"reinstall or upgrade {dist}, or set SKYFORM_DISABLE_PLUGIN_AUTOLOAD=1 to skip plugins",
            ) from exc
        seen[ep.name] = info
        pm.register(module, name=ep.name)
        module.__skyform_plugin_info__ = info


def _register_module(pm: pluggy.PluginManager, module_name: str) -> None:
    import importlib

    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise PluginError(f"plugin module {module_name!r} (from SKYFORM_PLUGIN_MODULES) failed to load: "
                          f"{type(exc).__name__}: {exc}") from exc
    if pm.is_registered(module):
        return
    module.__skyform_plugin_info__ = PluginInfo(module_name, "(SKYFORM_PLUGIN_MODULES)", "", module_name)  # type: ignore[attr-defined]
    pm.register(module, name=module_name)


def _origin(pm: pluggy.PluginManager, impl: Any) -> PluginInfo:
    info = getattr(impl.plugin, "__skyform_plugin_info__", None)
    if info is not None:
        return info
    name = pm.get_name(impl.plugin) or repr(impl.plugin)
    return PluginInfo(name, "(registered in process)", "", getattr(impl.plugin, "__name__", name))


def _uninstall_hint(origin: PluginInfo) -> str:
    if origin.distribution == "(SKYFORM_PLUGIN_MODULES)":
        return f"remove {origin.module} from SKYFORM_PLUGIN_MODULES"
    return f"uninstall one of the two distributions, e.g. pip uninstall {origin.distribution}"


def _calls(pm: pluggy.PluginManager, hook_name: str) -> list[tuple[PluginInfo, Any]]:
    """(origin, hookimpl) of a registration hook, each call traced like pluggy's own."""
    out = []
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        origin = _origin(pm, impl)
        if getattr(pm.trace.root, "_writer", None) is not None:
            pm.trace.root.get("hook")(f"{hook_name} [plugin {origin.name}, distribution {origin.distribution}]")
        out.append((origin, impl))
    return out


def load_registry(pm: pluggy.PluginManager | None = None) -> Registry:
    """Collect providers, state backends and commands; clashes are PluginErrors naming both sides."""
    pm = pm or build_plugin_manager()
    registry = Registry(pm)
    for origin, impl in _calls(pm, "skyform_providers"):
        try:
            provided = impl.function() or ()
        except Exception as exc:
            raise PluginError(
                f"plugin {origin.name!r} ({origin.distribution}) failed in skyform_providers: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        for provider in provided:
            if not isinstance(provider, Provider):
                raise PluginError(f"plugin {origin.name!r} ({origin.distribution}) returned {provider!r} "
                                  "from skyform_providers; expected skyform.providers.Provider objects")
            if provider.name in registry.providers:
                other = registry.provider_origin[provider.name]
                raise PluginError(
                    f"provider {provider.name!r} is claimed by two plugins: {other.name} "
                    f"(distribution {other.distribution}) and {origin.name} (distribution {origin.distribution})",
                    hint=_uninstall_hint(origin),
                )
            registry.providers[provider.name] = provider
            registry.provider_origin[provider.name] = origin
    for origin, impl in _calls(pm, "skyform_state_backends"):
        for backend in impl.function() or ():
            for scheme in backend.schemes:
                if scheme in registry.state_backends:
                    raise PluginError(
                        f"state URL scheme {scheme!r} is claimed twice: by {registry.state_backends[scheme].name} "
                        f"and by {backend.name} (plugin {origin.name}, distribution {origin.distribution})"
                    )
                registry.state_backends[scheme] = backend
    for origin, impl in _calls(pm, "skyform_cli_commands"):
        registry.cli_commands.extend(impl.function() or ())
    return registry
