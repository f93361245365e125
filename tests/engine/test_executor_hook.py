"""Executors are plugins: ``apply --executor NAME`` picks one a ``skyform_executors`` hook offers.

The engine's ``local`` executor is registered through the hook like a third-party one; a
test plugin (tests/engine/fakeprov/executor.py) shows that another runs every provider
call of an apply without any change to the engine.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def counting(ws, monkeypatch, tmp_path):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("SKYFORM_PLUGIN_MODULES", "fakeprov.plugin,fakeprov.executor")
    monkeypatch.setenv("FAKE_EXECUTOR_LOG", str(log))
    return log


def test_a_third_party_executor_runs_every_provider_call_of_an_apply(ws, counting):
    ws.write("""
        resources:
          a: {type: fake.Thing, spec: {name: a}}
          j: {type: fake.Job, spec: {name: "${{ resources.a.outputs.name }}-j", duration: 1}}
    """)
    ran = ws.run("apply", "--sandbox", "--auto-approve", "--executor", "counting", ws.path).clean()
    assert ran.code == 0, str(ran)
    calls = counting.read_text().splitlines()
    assert calls[:2] == ["a create", "j create"] and "j poll" in calls
    assert sorted(o["name"] for o in ws.remote_objects()) == ["a", "a-j"]


def test_the_executor_comes_from_the_environment_too(ws, counting, monkeypatch):
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    monkeypatch.setenv("SKYFORM_EXECUTOR", "counting")
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).clean().code == 0
    assert counting.read_text().splitlines() == ["a create"]


def test_an_unknown_executor_is_a_usage_error_naming_the_installed_ones_and_nothing_runs(ws, counting):
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    ran = ws.run("apply", "--sandbox", "--auto-approve", "--executor", "dask", ws.path).clean()
    assert ran.code == 64, str(ran)
    assert "no executor named 'dask'" in ran.err and "counting" in ran.err and "local" in ran.err
    assert ws.remote_objects() == [] and not counting.exists()


def test_two_executors_with_one_name_are_a_plugin_error_naming_both(ws, monkeypatch):
    monkeypatch.setenv("SKYFORM_PLUGIN_MODULES", "fakeprov.plugin,fakeprov.executor,fakeprov.executor_twin")
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path).clean()
    assert ran.code == 4, str(ran)
    assert "executor 'counting' is claimed by two plugins" in ran.err
    assert "fakeprov.executor" in ran.err and "fakeprov.executor_twin" in ran.err


def test_the_local_executor_is_registered_through_the_hook_by_the_engine_entry_point():
    from importlib import metadata

    from skyform.apply.plugin import LOCAL, skyform_executors

    assert skyform_executors() == [LOCAL]
    points = {ep.name: ep.value for ep in metadata.entry_points(group="skyform")}
    assert points["executors"] == "skyform.apply.plugin"
