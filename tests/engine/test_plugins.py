"""The plugin system: name clashes name both distributions, failing plugins are named, hooks are traced,
observer hooks see every transition, plugins can add commands.

Real distributions are simulated with `*.dist-info` directories on sys.path, so entry points are
found by importlib.metadata exactly as for installed packages.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from skyform.errors import PluginError
from skyform.providers.host import PluginInfo, build_plugin_manager, load_registry

PROVIDER_MODULE = """
from skyform import hookimpl

@hookimpl
def skyform_providers():
    from skyform.providers import Provider
    return [Provider(name={name!r}, version="1.0", kinds=(), connect=lambda s: None)]
"""


def make_distribution(site: Path, dist: str, entry: str, module: str, body: str) -> None:
    """A minimal installed distribution: dist-info with an entry point in group `skyform`, and its module."""
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[skyform]\n{entry} = {module}\n")
    (site / f"{module}.py").write_text(textwrap.dedent(body))


@pytest.fixture
def site(tmp_path, monkeypatch):
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    return path


class _Plugin:
    """An in-process plugin object claiming one provider name."""

    def __init__(self, provider: str, distribution: str) -> None:
        from skyform import hookimpl
        from skyform.providers import Provider

        self.__skyform_plugin_info__ = PluginInfo(distribution, distribution, "1.0", f"{distribution}.plugin")

        @hookimpl
        def skyform_providers():  # type: ignore[no-untyped-def]
            return [Provider(name=provider, version="1.0", kinds=(), connect=lambda s: None)]

        self.skyform_providers = skyform_providers


def test_two_in_process_plugins_claiming_one_provider_name_name_both_distributions(engine_env):
    """load_registry refuses a provider name claimed twice, naming both plugins and distributions."""
    pm = build_plugin_manager(
        plugins=[_Plugin("twin", "skyform-twin-a"), _Plugin("twin", "skyform-twin-b")], autoload=False
    )
    with pytest.raises(PluginError) as caught:
        load_registry(pm)
    message = str(caught.value)
    assert "provider 'twin' is claimed by two plugins" in message
    assert "(distribution skyform-twin-a)" in message and "(distribution skyform-twin-b)" in message
    assert caught.value.hint and "pip uninstall" in caught.value.hint
    assert caught.value.exit_code == 4


def test_two_installed_distributions_claiming_one_provider_exit_4(ws, site, monkeypatch):
    """Two installed distributions whose plugins return the same provider name: exit 4 naming both."""
    make_distribution(site, "skyform-twin-a", "twina", "twinmod_a", PROVIDER_MODULE.format(name="twin"))
    make_distribution(site, "skyform-twin-b", "twinb", "twinmod_b", PROVIDER_MODULE.format(name="twin"))
    monkeypatch.setenv("SKYFORM_PLUGINS", "local,state,twina,twinb")
    ran = ws.run("providers").clean()
    assert ran.code == 4, str(ran)
    assert (
        "provider 'twin' is claimed by two plugins: twina (distribution skyform-twin-a) and twinb "
        "(distribution skyform-twin-b)"
    ) in ran.err
    assert "hint: uninstall one of the two distributions, e.g. pip uninstall skyform-twin-b" in ran.err


def test_two_distributions_with_one_plugin_name_exit_4(ws, site, monkeypatch):
    """Two distributions registering the same entry-point name: exit 4 naming both distributions."""
    make_distribution(site, "skyform-dup-a", "dup", "dupmod_a", PROVIDER_MODULE.format(name="dupa"))
    make_distribution(site, "skyform-dup-b", "dup", "dupmod_b", PROVIDER_MODULE.format(name="dupb"))
    monkeypatch.setenv("SKYFORM_PLUGINS", "local,state,dup")
    ran = ws.run("providers").clean()
    assert ran.code == 4, str(ran)
    assert "plugin name 'dup' is claimed by two distributions:" in ran.err
    assert "skyform-dup-a (dupmod_a)" in ran.err and "(dupmod_b)" in ran.err


def test_installed_plugin_that_fails_to_import_is_named(ws, site, monkeypatch):
    """An entry point whose module raises on import, used by a mission: exit 4 naming plugin, module,
    distribution and error."""
    make_distribution(site, "skyform-broken", "broken", "brokenmod", "import not_installed_vendor_sdk\n")
    monkeypatch.setenv("SKYFORM_PLUGINS", "local,state,broken")
    ws.write("resources:\n  a: {type: broken.Thing, spec: {}}\n")
    ran = ws.run("validate", ws.path).clean()
    assert ran.code == 4, str(ran)
    assert (
        "plugin 'broken' (brokenmod) from distribution skyform-broken 1.0 failed to load: "
        "ModuleNotFoundError: No module named 'not_installed_vendor_sdk'"
    ) in ran.err
    assert "SKYFORM_DISABLE_PLUGIN_AUTOLOAD=1" in ran.err


def test_a_plugin_the_mission_does_not_use_is_not_imported(ws, site, monkeypatch):
    """Entry points load lazily: a broken plugin no mission resource names stays unimported, and
    `skyform providers` (which lists every plugin) still names it."""
    make_distribution(site, "skyform-broken", "broken", "brokenmod", "import not_installed_vendor_sdk\n")
    monkeypatch.setenv("SKYFORM_PLUGINS", "local,state,broken")
    ws.write("resources: {}\n")
    assert ws.run("validate", ws.path).clean().code == 0
    listed = ws.run("providers").clean()
    assert listed.code == 4 and "plugin 'broken' (brokenmod)" in listed.err, str(listed)


def test_a_misspelt_hook_is_refused_naming_the_plugin(ws, site, monkeypatch):
    """pm.check_pending(): a hookimpl whose name is no skyform hook is a plugin error, exit 4."""
    make_distribution(
        site,
        "skyform-typo",
        "typo",
        "typomod",
        """
        from skyform import hookimpl

        @hookimpl
        def skyform_provider():
            return []
    """,
    )
    monkeypatch.setenv("SKYFORM_PLUGINS", "local,state,typo")
    ran = ws.run("providers").clean()
    assert ran.code == 4, str(ran)
    assert "plugin 'typo' (distribution skyform-typo) is invalid" in ran.err
    assert "skyform_provider" in ran.err


def test_plugin_module_that_does_not_exist_exit_4(ws, monkeypatch):
    """SKYFORM_PLUGIN_MODULES naming a missing module: exit 4 with a clear message, no traceback."""
    ws.write("resources: {}\n")
    monkeypatch.setenv("SKYFORM_PLUGIN_MODULES", "nonexistent")
    ran = ws.run("plan", ws.path).clean()
    assert ran.code == 4, str(ran)
    assert (
        "plugin module 'nonexistent' (from SKYFORM_PLUGIN_MODULES) failed to load: ModuleNotFoundError: "
        "No module named 'nonexistent'"
    ) in ran.err


@pytest.mark.parametrize(
    "module,message",
    [
        (
            "fakeprov.duplicate",
            "provider 'fake' is claimed by two plugins: fakeprov.plugin (distribution "
            "(SKYFORM_PLUGIN_MODULES)) and fakeprov.duplicate (distribution (SKYFORM_PLUGIN_MODULES))",
        ),
        (
            "fakeprov.broken",
            "plugin 'fakeprov.broken' ((SKYFORM_PLUGIN_MODULES)) failed in skyform_providers: "
            "RuntimeError: the vendor SDK is not configured",
        ),
    ],
)
def test_plugin_module_errors_name_the_module(ws, monkeypatch, module, message):
    """A clashing or failing plugin module is exit 4 with a message naming it."""
    monkeypatch.setenv("SKYFORM_PLUGIN_MODULES", f"fakeprov.plugin,{module}")
    ran = ws.run("providers").clean()
    assert ran.code == 4, str(ran)
    assert " ".join(message.split()) in " ".join(ran.err.split()), str(ran)


def test_trace_hooks_writes_hook_calls_to_stderr(ws, monkeypatch):
    """SKYFORM_TRACE_HOOKS=1 traces hook calls, with their arguments and results, to stderr."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    monkeypatch.setenv("SKYFORM_TRACE_HOOKS", "1")
    ran = ws.run("plan", "--sandbox", ws.path)
    assert ran.code == 0, str(ran)
    assert "  skyform_plan_ready [hook]" in ran.err
    assert "      mission: mission" in ran.err
    assert "finish skyform_plan_ready --> []" in ran.err
    monkeypatch.delenv("SKYFORM_TRACE_HOOKS")
    quiet = ws.run("plan", "--sandbox", ws.path)
    assert "[hook]" not in quiet.err


def test_trace_hooks_includes_the_registration_hooks(ws, monkeypatch):
    """The registration hooks (where plugins are loaded, the usual thing to debug) are traced too."""
    ws.write("resources: {}\n")
    monkeypatch.setenv("SKYFORM_TRACE_HOOKS", "1")
    ran = ws.run("plan", ws.path)  # plan opens the state, so the state backends are collected too
    assert ran.code == 0, str(ran)
    assert "skyform_providers [plugin fakeprov.plugin" in ran.err
    assert "skyform_state_backends [plugin state" in ran.err


def test_clash_hint_for_environment_modules_names_the_variable(ws, monkeypatch):
    """A clash involving a SKYFORM_PLUGIN_MODULES module hints at that variable, not at pip."""
    monkeypatch.setenv("SKYFORM_PLUGIN_MODULES", "fakeprov.plugin,fakeprov.duplicate")
    ran = ws.run("providers")
    assert ran.code == 4
    assert "pip uninstall (SKYFORM_PLUGIN_MODULES)" not in ran.err


def test_autoload_disabled_loads_only_the_named_plugins(ws, monkeypatch):
    """With autoload off, SKYFORM_PLUGINS picks the entry points to load (here: local only)."""
    monkeypatch.setenv("SKYFORM_PLUGINS", "local")
    monkeypatch.setenv("SKYFORM_PLUGIN_MODULES", "")
    ran = ws.run("providers", "--json")
    assert [p["name"] for p in json.loads(ran.out)] == ["local"]


def test_observer_hooks_see_plan_every_transition_and_the_end(ws, monkeypatch, tmp_path):
    """skyform_plan_ready, skyform_resource_transition and skyform_apply_finished are called with the events."""
    log = tmp_path / "observer.jsonl"
    monkeypatch.setenv("SKYFORM_PLUGIN_MODULES", "fakeprov.plugin,fakeprov.observer")
    monkeypatch.setenv("SKYFORM_TEST_OBSERVER_LOG", str(log))
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a}}
          j: {type: fake.Job, spec: {name: j, duration: 30}, depends_on: [a]}
    """)
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls[0] == {"hook": "plan_ready", "mission": "mission", "counts": {"create": 2}}
    assert [(c["address"], c["before"], c["after"]) for c in calls if c["hook"] == "transition"] == [
        ("a", None, "creating"),
        ("a", "creating", "ready"),
        ("j", None, "creating"),
        ("j", "creating", "running"),
        ("j", "running", "ready"),
    ]
    assert calls[-1] == {"hook": "apply_finished", "mission": "mission", "ok": True, "counts": {"create": 2}}


def test_plugin_contributed_command_runs(ws, monkeypatch):
    """A click command returned by skyform_cli_commands is a `skyform` sub-command."""
    monkeypatch.setenv("SKYFORM_PLUGIN_MODULES", "fakeprov.plugin,fakeprov.observer")
    ran = ws.run("fake-hello", "tests")
    assert ran.code == 0 and ran.out == "hello, tests\n"
    monkeypatch.setenv("SKYFORM_PLUGIN_MODULES", "fakeprov.plugin")
    assert ws.run("fake-hello").code == 64


def test_failing_observer_plugin_does_not_break_the_apply(ws, monkeypatch, tmp_path):
    """A notifier plugin that raises (its webhook is down) is reported as a warning; the apply completes."""
    monkeypatch.setenv("SKYFORM_PLUGIN_MODULES", "fakeprov.plugin,fakeprov.observer")
    monkeypatch.setenv("SKYFORM_TEST_OBSERVER_FAIL", "1")
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n  b: {type: fake.Thing, spec: {name: b}}\n")
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path).clean()
    assert ran.code == 0, str(ran)
    assert "webhook https://hooks.example/notify is unreachable" in ran.out + ran.err
    assert sorted(o["name"] for o in ws.remote_objects()) == ["a", "b"]


SLOW_PLUGIN = """
import threading

from skyform import hookimpl

ENTERED = threading.Event()
GATE = threading.Event()


@hookimpl
def skyform_providers():
    ENTERED.set()
    GATE.wait(30)
    from skyform.providers import Provider
    return [Provider(name="slow", version="1.0", kinds=(), connect=lambda s: None)]
"""


def test_a_provider_looked_up_by_two_threads_at_once_is_loaded_once_for_both(engine_env, site, monkeypatch):
    """Refresh and apply look providers up from worker threads: while one thread loads a plugin,
    another asking for the same provider waits for it instead of finding nothing."""
    import importlib
    import threading

    make_distribution(site, "skyform-slow", "slow", "slowmod", SLOW_PLUGIN)
    monkeypatch.setenv("SKYFORM_PLUGINS", "slow")
    monkeypatch.delenv("SKYFORM_PLUGIN_MODULES", raising=False)
    registry = load_registry(build_plugin_manager())
    found: dict[str, object] = {}
    first = threading.Thread(target=lambda: found.update(first=registry.providers.get("slow")))
    first.start()
    slowmod = importlib.import_module("slowmod")
    assert slowmod.ENTERED.wait(30)  # the first thread is inside the plugin's skyform_providers
    second = threading.Thread(target=lambda: found.update(second=registry.providers.get("slow")))
    second.start()
    second.join(0.3)  # unlocked, the second lookup would already have answered None
    slowmod.GATE.set()
    first.join(30)
    second.join(30)
    assert getattr(found.get("first"), "name", None) == "slow"
    assert getattr(found.get("second"), "name", None) == "slow"
