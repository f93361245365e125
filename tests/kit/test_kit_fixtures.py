"""The skyform.testing fixtures: write_mission, run_skyform, sandbox, state_store."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from skyform.errors import TransientError


def test_write_mission_completes_the_envelope_and_writes_files(write_mission, mission_dir: Path) -> None:
    """A dict gets apiVersion/kind/metadata; files land relative to the mission directory."""
    path = write_mission({"resources": {}}, files={"data/a.txt": "A", "data/b.bin": b"\x00"})
    assert path == mission_dir
    document = json.loads((path / "mission.yaml").read_text())
    assert document == {"apiVersion": "skyform/v1", "kind": "Mission", "metadata": {"name": "mission"}, "resources": {}}
    assert (path / "data" / "a.txt").read_text() == "A" and (path / "data" / "b.bin").read_bytes() == b"\x00"


def test_write_mission_keeps_yaml_text_as_written(write_mission) -> None:
    """YAML text is written verbatim (so tests can pin line and column numbers)."""
    text = "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: x}\n"
    assert (write_mission(text) / "mission.yaml").read_text() == text


def test_run_skyform_reports_exit_code_and_the_users_message(write_mission, run_skyform, kitdemo) -> None:
    """An invalid spec exits 3 with file:line:col, path and message, as the console shows them."""
    mission = write_mission({"resources": {"job": {"type": "kitdemo.Job", "spec": {"name": "a", "priority": 11}}}})
    result = run_skyform("validate", str(mission), providers=[kitdemo])
    assert result.exit_code == 3, result.output
    assert (
        "resources.job.spec.priority: priority must be at most 10, not 11 [kitdemo.Job]"
        in result.stderr + result.stdout
    )


def test_run_skyform_parses_json_events(write_mission, run_skyform, kitdemo) -> None:
    """With --json the JSON lines printed are available as parsed events."""
    mission = write_mission({"resources": {"job": {"type": "kitdemo.Job", "spec": {"name": "a"}}}})
    result = run_skyform("plan", "--sandbox", "--json", str(mission), providers=[kitdemo])
    assert result.exit_code == 0, result.output
    assert result.events and all(isinstance(e, dict) for e in result.events)
    assert any(e.get("event") == "plan" for e in result.events)


def test_sandbox_fixture_serves_settings_objects_and_faults(sandbox, kitdemo) -> None:
    """sandbox(provider) yields working settings, object counts and fault injection."""
    box = sandbox(kitdemo)
    client = kitdemo.connect(box.settings["kitdemo"])
    client.post("/jobs", json={"name": "one"})
    assert box.objects() == {"kitdemo": {"job": 1}}
    box.inject([{"fault": "status", "status": 503, "retry_after": 2}])
    with pytest.raises(TransientError) as caught:
        client.get("/jobs")
    assert caught.value.retry_after == 2
    box.inject([])
    assert httpx.get(box.base_url("kitdemo") + "/__sandbox__/objects").json() == {"job": 1}
    client.close()


def test_state_store_is_an_isolated_sqlite_store(state_store, tmp_path: Path) -> None:
    """state_store is a fresh SQLite store in tmp_path: empty, writable, readable."""
    assert state_store.missions() == []
    serial = state_store.write("m", mission_update={"spec_digest": "abc"})
    assert serial == 1 and state_store.mission("m").spec_digest == "abc"
    assert Path(state_store.path).parent == tmp_path


def test_run_skyform_in_a_subprocess(run_skyform, tmp_path: Path) -> None:
    """subprocess_mode runs the real console entry point in a child process."""
    result = run_skyform("plugin", "new", "Bad", subprocess_mode=True, cwd=tmp_path)
    assert result.exit_code == 64
    assert "invalid provider name 'Bad'" in result.stderr
