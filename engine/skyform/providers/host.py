"""Builds the plugin manager and the registry of what plugins offer.

Plugins are found through the entry-point group ``skyform`` - the built-in providers and
state backends exactly like third-party ones. Nothing is loaded at import time: the CLI
calls :func:`load_registry` when a command needs providers, and tests hand it the plugin
objects they want.

Loading is lazy because start-up time is a feature (issue 16): discovering the entry points
reads only the distributions' ``entry_points.txt`` (:mod:`.entrypoints`, without importing
``importlib.metadata``); an entry point's module is imported, registered and validated
(``pm.check_pending()``, the type and uniqueness of what it returns) when something it may
offer is first asked for. A lookup of provider ``X`` first loads the entry point named
``X`` (the built-ins follow that convention) and, only when that does not offer ``X``, all
the others; listing providers or state backends loads every plugin. Plugins handed in by
object or through ``SKYFORM_PLUGIN_MODULES`` are collected at once.

Escape hatches: ``SKYFORM_DISABLE_PLUGIN_AUTOLOAD=1`` loads no entry points (then
``SKYFORM_PLUGINS=name,name`` loads just those); ``SKYFORM_PLUGIN_MODULES=pkg.mod,...``
registers importable modules as plugins without installing them (for development and
tests); ``SKYFORM_TRACE_HOOKS=1`` traces every hook call to stderr.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

from ..errors import PluginError
from . import hookspecs
from .base import Provider, ResourceKind
from .entrypoints import EntryPoint, entry_points
from .hooks import Hooks, PluginInfo

if TYPE_CHECKING:
    from ..apply.executor import ExecutorBackend
    from ..state.base import StateBackend

GROUP = "skyform"
#: Entry points of the engine itself, discovered even when SKYFORM_PLUGINS names others.
ENGINE_PLUGINS = frozenset({"executors", "celery"})

__all__ = [
    "GROUP",
    "PluginInfo",
    "PluginManager",
    "Registry",
    "build_plugin_manager",
    "load_registry",
    "origin_of",
]


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus the entry points found but not yet imported."""

    def __init__(self) -> None:
        super().__init__(GROUP)
        self.add_hookspecs(hookspecs)
        #: entry-point name -> entry point, in name order; removed once loaded
        self.pending: dict[str, EntryPoint] = {}
        self.origins: dict[int, PluginInfo] = {}
        self.tracing = False


def build_plugin_manager(plugins: Iterable[object] = (), *, autoload: bool | None = None) -> PluginManager:
    """A plugin manager with the hookspecs, entry-point plugins (unless disabled) and ``plugins``."""
    pm = PluginManager()
    if os.environ.get("SKYFORM_TRACE_HOOKS", "") not in ("", "0"):
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
        pm.tracing = True
    if autoload is None:
        autoload = os.environ.get("SKYFORM_DISABLE_PLUGIN_AUTOLOAD", "") in ("", "0")
    only = {n.strip() for n in os.environ.get("SKYFORM_PLUGINS", "").split(",") if n.strip()}
    if autoload or only:
        # the engine's own executors (local, celery) stay available under a restricted list
        pm.pending = _discover(only=None if autoload else only | ENGINE_PLUGINS)
    for module_name in [m.strip() for m in os.environ.get("SKYFORM_PLUGIN_MODULES", "").split(",") if m.strip()]:
        _register_module(pm, module_name)
    for plugin in plugins:
        pm.register(plugin)
    pm.check_pending()
    return pm


def _discover(only: set[str] | None) -> dict[str, EntryPoint]:
    """The ``skyform`` entry points by name; one name from two distributions is an error."""
    found: dict[str, EntryPoint] = {}
    for ep in sorted(entry_points(GROUP), key=lambda e: e.name):
        if only is not None and ep.name not in only:
            continue
        seen = found.get(ep.name)
        if seen is not None:
            if seen.value == ep.value:
                continue  # the same distribution seen twice on sys.path
            first, dist = _info(seen), _info(ep).distribution
            raise PluginError(
                f"plugin name {ep.name!r} is claimed by two distributions: "
                f"{first.distribution} ({first.module}) and {dist} ({ep.value})",
                hint=f"uninstall one of them: pip uninstall {dist}",
            )
        found[ep.name] = ep
    return found


def _info(ep: EntryPoint) -> PluginInfo:
    dist = ep.dist.name if ep.dist is not None else "?"
    version = ep.dist.version if ep.dist is not None else "?"
    return PluginInfo(ep.name, dist, version, ep.value)


def _load_entry_point(pm: PluginManager, ep: EntryPoint) -> object:
    info = _info(ep)
    try:
        module = ep.load()
    except Exception as exc:  # any import failure of third-party code
        raise PluginError(
            f"plugin {ep.name!r} ({ep.value}) from distribution {info.distribution} {info.version} failed to load: "
            f"{type(exc).__name__}: {exc}",
            hint=f"reinstall or upgrade {info.distribution}, or set SKYFORM_DISABLE_PLUGIN_AUTOLOAD=1 to skip plugins",
        ) from exc
    _register(pm, module, ep.name, info)
    return module


def _register_module(pm: PluginManager, module_name: str) -> None:
    import importlib

    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise PluginError(
            f"plugin module {module_name!r} (from SKYFORM_PLUGIN_MODULES) failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    if pm.is_registered(module):
        return
    _register(
        pm,
        module,
        module_name,
        PluginInfo(module_name, "(SKYFORM_PLUGIN_MODULES)", "", module_name),
    )


def _register(pm: PluginManager, plugin: object, name: str, info: PluginInfo) -> None:
    pm.register(plugin, name=name)
    pm.origins[id(plugin)] = info
    try:
        pm.check_pending()  # a misspelt hook name fails now, naming the plugin
    except pluggy.PluginValidationError as exc:
        pm.unregister(plugin)
        raise PluginError(
            f"plugin {name!r} (distribution {info.distribution}) is invalid: {exc}",
            hint="hook names start with skyform_; see docs/plugins.md",
        ) from exc


def origin_of(pm: PluginManager, plugin: object) -> PluginInfo:
    """Where ``plugin`` came from (in-process objects may carry their own ``__skyform_plugin_info__``)."""
    info = pm.origins.get(id(plugin)) or getattr(plugin, "__skyform_plugin_info__", None)
    if isinstance(info, PluginInfo):
        return info
    name = pm.get_name(plugin) or repr(plugin)
    return PluginInfo(name, "(registered in process)", "", getattr(plugin, "__name__", name))


def _uninstall_hint(origin: PluginInfo) -> str:
    if origin.distribution == "(SKYFORM_PLUGIN_MODULES)":
        return f"remove {origin.module} from SKYFORM_PLUGIN_MODULES"
    return f"uninstall one of the two distributions, e.g. pip uninstall {origin.distribution}"


class _Providers(Mapping[str, Provider]):
    """The providers by name; a lookup loads only the plugins it needs (see the module docstring)."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self.loaded: dict[str, Provider] = {}

    def __getitem__(self, name: str) -> Provider:
        if name not in self.loaded:  # the lock-free fast path: a loaded provider stays loaded
            self._registry._load_for(name)
        return self.loaded[name]

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str) and name not in self.loaded:
            self._registry._load_for(name)
        return name in self.loaded

    def __iter__(self) -> Iterator[str]:
        self._registry._collect_all_providers()
        return iter(self.loaded)

    def __len__(self) -> int:
        self._registry._collect_all_providers()
        return len(self.loaded)


class Registry:
    """Providers, state backends and CLI commands contributed by the plugins, loaded on demand.

    Importing a plugin's entry point is cheap (the built-ins import their provider modules
    inside ``skyform_providers``); calling ``skyform_providers`` is what costs, so it is
    called per plugin, when one of its providers is looked up or all are listed.
    """

    def __init__(self, pm: PluginManager) -> None:
        self.pm = pm
        self._table = _Providers(self)
        self.providers: Mapping[str, Provider] = self._table
        self.provider_origin: dict[str, PluginInfo] = {}
        self._hooks = Hooks(pm, tracing=pm.tracing)
        self._backends: dict[str, StateBackend] = {}
        self._commands: list[Any] = []
        self._executors: dict[str, tuple[ExecutorBackend, PluginInfo]] = {}
        self._done: dict[str, set[int]] = {
            "providers": set(),
            "backends": set(),
            "commands": set(),
            "executors": set(),
        }
        # refresh and apply look providers up from worker threads: one loads, the others wait
        # for it (reentrant: loading one provider may load them all)
        self._loading = threading.RLock()

    # -- what callers use -----------------------------------------------------------------
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

    @property
    def hooks(self) -> Hooks:
        """The typed hook caller, with every plugin imported so that all observers see the call."""
        self.import_all()
        return self._hooks

    @property
    def state_backends(self) -> dict[str, StateBackend]:
        """State backends by URL scheme, from every plugin."""
        with self._loading:
            for plugin in self._plugins():
                if self._first_time("backends", plugin):
                    self._add_backends(plugin)
        return self._backends

    @property
    def executors(self) -> dict[str, ExecutorBackend]:
        """Executors by name (``apply --executor NAME``), from every plugin."""
        with self._loading:
            for plugin in self._plugins():
                if self._first_time("executors", plugin):
                    self._add_executors(plugin)
        return {name: backend for name, (backend, _) in self._executors.items()}

    def _add_executors(self, plugin: object) -> None:
        origin = origin_of(self.pm, plugin)
        for backend in self._hooks.executors(plugin, origin):
            seen = self._executors.get(backend.name)
            if seen is not None:
                raise PluginError(
                    f"executor {backend.name!r} is claimed by two plugins: {seen[1].name} "
                    f"(distribution {seen[1].distribution}) and {origin.name} (distribution {origin.distribution})",
                    hint=_uninstall_hint(origin),
                )
            self._executors[backend.name] = (backend, origin)

    @property
    def cli_commands(self) -> list[Any]:
        """Extra ``skyform`` sub-commands, from every plugin."""
        with self._loading:
            for plugin in self._plugins():
                if self._first_time("commands", plugin):
                    self._commands.extend(self._hooks.cli_commands(plugin, origin_of(self.pm, plugin)))
        return self._commands

    # -- loading ------------------------------------------------------------------------
    def import_all(self) -> None:
        """Import and register every pending entry point (cheap: no provider module is imported)."""
        with self._loading:
            for name in list(self.pm.pending):
                _load_entry_point(self.pm, self.pm.pending.pop(name))

    def _plugins(self) -> list[object]:
        """Every plugin, in registration order (entry points by name), so messages are stable."""
        self.import_all()
        return [plugin for _, plugin in self.pm.list_name_plugin()]

    def _first_time(self, hook: str, plugin: object) -> bool:
        done = self._done[hook]
        if id(plugin) in done:
            return False
        done.add(id(plugin))
        return True

    def _load_for(self, provider_name: str) -> None:
        with self._loading:
            if provider_name in self._table.loaded:  # another thread loaded it meanwhile
                return
            ep = self.pm.pending.pop(provider_name, None)
            if ep is not None:
                plugin = _load_entry_point(self.pm, ep)
                if self._first_time("providers", plugin):
                    self._add_providers(plugin)
            if provider_name not in self._table.loaded:
                self._collect_all_providers()

    def _collect_all_providers(self) -> None:
        with self._loading:
            for plugin in self._plugins():
                if self._first_time("providers", plugin):
                    self._add_providers(plugin)

    def _add_providers(self, plugin: object) -> None:
        """Call one plugin's ``skyform_providers`` and check what it returns."""
        origin = origin_of(self.pm, plugin)
        loaded = self._table.loaded
        for provider in self._hooks.providers(plugin, origin):
            if not isinstance(provider, Provider):
                raise PluginError(
                    f"plugin {origin.name!r} ({origin.distribution}) returned {provider!r} "
                    "from skyform_providers; expected skyform.providers.Provider objects"
                )
            if provider.name in loaded:
                other = self.provider_origin[provider.name]
                raise PluginError(
                    f"provider {provider.name!r} is claimed by two plugins: {other.name} "
                    f"(distribution {other.distribution}) and {origin.name} (distribution {origin.distribution})",
                    hint=_uninstall_hint(origin),
                )
            loaded[provider.name] = provider
            self.provider_origin[provider.name] = origin

    def _add_backends(self, plugin: object) -> None:
        origin = origin_of(self.pm, plugin)
        for backend in self._hooks.state_backends(plugin, origin):
            for scheme in backend.schemes:
                if scheme in self._backends:
                    raise PluginError(
                        f"state URL scheme {scheme!r} is claimed twice: by {self._backends[scheme].name} "
                        f"and by {backend.name} (plugin {origin.name}, distribution {origin.distribution})"
                    )
                self._backends[scheme] = backend

    def _collect_registered(self) -> None:
        """Collect the plugins registered in process (not pending entry points) right away."""
        for _, plugin in self.pm.list_name_plugin():
            if self._first_time("providers", plugin):
                self._add_providers(plugin)
            if self._first_time("backends", plugin):
                self._add_backends(plugin)


def load_registry(pm: PluginManager | None = None) -> Registry:
    """The registry over ``pm``: plugins registered in process are collected now, entry points on demand.

    Clashes and plugins that fail are PluginErrors naming both sides, raised when the
    plugin concerned is loaded.
    """
    registry = Registry(pm or build_plugin_manager())
    registry._collect_registered()
    return registry
