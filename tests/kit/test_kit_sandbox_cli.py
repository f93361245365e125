"""`skyform sandbox serve|objects|reset|faults`, driven through click against the example provider."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner
from skyform_kitdemo.provider import PROVIDER

from skyform.cli.sandbox import command
from skyform.errors import UsageError
from skyform.sandbox.host import SandboxError, SimulatorHost
from skyform.sandbox.session import ServeLock, start_sandbox


def invoke(registry, *args: str):
    return CliRunner().invoke(command, list(args), obj=registry)


def saved_jobs(state_dir: Path, count: int) -> None:
    """Leave ``count`` jobs in the saved state of ``state_dir`` (no serve running)."""
    with start_sandbox([PROVIDER], state_dir) as host:
        client = PROVIDER.connect(host.settings()["kitdemo"])
        for i in range(count):
            client.post("/jobs", json={"name": f"job-{i}"})
        client.close()


def test_objects_counts_saved_state_when_no_serve_runs(registry, tmp_path: Path) -> None:
    """objects --json reads the persisted state files and says so (source: state)."""
    saved_jobs(tmp_path, 2)
    result = invoke(registry, "objects", "--dir", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"source": "state", "dir": str(tmp_path), "objects": {"kitdemo": {"job": 2}}}
    text = invoke(registry, "objects", "--dir", str(tmp_path))
    assert f"objects from the saved state in {tmp_path} (no sandbox serve is running):" in text.output
    assert "kitdemo" in text.output and "job" in text.output


def test_objects_and_reset_default_to_the_missions_sandbox_dir(registry, tmp_path: Path) -> None:
    """MISSION_DIR selects <mission>/.skyform/sandbox, where apply --sandbox keeps state."""
    saved_jobs(tmp_path / ".skyform" / "sandbox", 1)
    result = invoke(registry, "objects", "--json", str(tmp_path))
    assert json.loads(result.output)["objects"] == {"kitdemo": {"job": 1}}
    reset = invoke(registry, "reset", str(tmp_path))
    assert reset.exit_code == 0 and "cleared kitdemo" in reset.output
    assert json.loads(invoke(registry, "objects", "--json", str(tmp_path)).output)["objects"] == {}
    assert "nothing to reset" in invoke(registry, "reset", str(tmp_path)).output


def test_dir_and_mission_together_are_a_usage_error(registry, tmp_path: Path) -> None:
    """--dir and MISSION_DIR name the same thing twice: refused."""
    result = invoke(registry, "reset", "--dir", str(tmp_path), str(tmp_path))
    assert isinstance(result.exception, UsageError)
    assert "give either --dir or MISSION_DIR, not both" in str(result.exception)


def test_faults_need_a_running_serve(registry, tmp_path: Path) -> None:
    """Pushing faults to a directory nobody serves says so and how to start with faults."""
    rules = tmp_path / "faults.yaml"
    rules.write_text("- {fault: status, status: 503}\n")
    result = invoke(registry, "faults", "--dir", str(tmp_path), str(rules))
    assert isinstance(result.exception, SandboxError)
    assert f"no `skyform sandbox serve` is running on {tmp_path}" in str(result.exception)


def test_invalid_fault_rules_are_a_usage_error(registry, tmp_path: Path) -> None:
    """A fault file with an unknown fault kind is refused with the allowed kinds."""
    rules = tmp_path / "faults.yaml"
    rules.write_text("- {fault: explode}\n")
    result = invoke(registry, "faults", "--dir", str(tmp_path), str(rules))
    assert isinstance(result.exception, UsageError)
    assert "unknown fault 'explode'; expected one of status, latency, drop, job_fail, job_stuck" in str(
        result.exception
    )


def test_second_serve_on_the_same_dir_is_refused(registry, tmp_path: Path) -> None:
    """While one serve holds DIR, another serve there is refused naming the holder's pid."""
    lock = ServeLock(tmp_path)
    lock.acquire()
    try:
        lock.publish(SimulatorHost())
        result = invoke(registry, "serve", "--dir", str(tmp_path))
    finally:
        lock.release()
    assert isinstance(result.exception, SandboxError)
    assert f"another `skyform sandbox serve` (pid {os.getpid()}) is already serving {tmp_path}" in str(result.exception)


def test_serve_into_an_unusable_dir_is_a_clear_error(registry, tmp_path: Path) -> None:
    """A --dir that cannot be created is refused with the reason."""
    (tmp_path / "file").write_text("")
    result = invoke(registry, "serve", "--dir", str(tmp_path / "file" / "sbx"))
    assert isinstance(result.exception, SandboxError)
    assert "cannot create state directory" in str(result.exception)


def test_serve_without_simulators_is_refused(tmp_path: Path) -> None:
    """With no provider shipping a simulator there is nothing to serve."""
    from skyform.providers.host import build_plugin_manager, load_registry

    empty = load_registry(build_plugin_manager(autoload=False))
    result = invoke(empty, "serve", "--dir", str(tmp_path))
    assert "no installed provider ships a simulator" in str(result.exception)


SERVE = """
import sys
sys.path.insert(0, {kitdemo!r})
from skyform.cli.sandbox import command
from skyform.providers.host import build_plugin_manager, load_registry
from skyform_kitdemo import plugin
command.main(sys.argv[1:], obj=load_registry(build_plugin_manager([plugin], autoload=False)),
             prog_name="skyform sandbox")
"""


def test_serve_runs_until_sigterm_and_keeps_its_state(registry, tmp_path: Path) -> None:
    """serve publishes providers.json, answers objects/faults/reset, stops cleanly on SIGTERM."""
    kitdemo = str(Path(sys.modules["skyform_kitdemo"].__file__).parents[1])
    initial = tmp_path / "initial-faults.yaml"
    initial.write_text("- {fault: status, status: 500, match: 'GET /api/v1/jobs/job-nope'}\n")
    serve = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVE.format(kitdemo=kitdemo),
            "serve",
            "--dir",
            str(tmp_path),
            "--clock",
            "100",
            "--faults",
            str(initial),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not (tmp_path / "serve.json").exists():
            assert serve.poll() is None and time.monotonic() < deadline, serve.communicate()
            time.sleep(0.05)
        settings = json.loads((tmp_path / "providers.json").read_text())
        assert set(settings) == {"kitdemo"} and settings["kitdemo"]["token"] == "sandbox-kitdemo-token"
        auth = {"Authorization": "Bearer sandbox-kitdemo-token"}
        assert httpx.get(settings["kitdemo"]["url"] + "/jobs/job-nope", headers=auth).status_code == 500
        client = PROVIDER.connect(settings["kitdemo"])
        client.post("/jobs", json={"name": "first"})
        running = json.loads(invoke(registry, "objects", "--dir", str(tmp_path), "--json").output)
        assert running["source"] == "running" and running["objects"] == {"kitdemo": {"job": 1}}

        rules = tmp_path / "faults.json"
        rules.write_text('[{"fault": "status", "status": 503, "match": "POST /api/v1/jobs"}]')
        assert (
            "1 fault rule(s) active on 1 simulator(s)"
            in invoke(registry, "faults", "--dir", str(tmp_path), str(rules)).output
        )
        url = settings["kitdemo"]["url"] + "/jobs"
        assert httpx.post(url, json={"name": "x"}, headers=auth).status_code == 503
        assert "0 fault rule(s)" in invoke(registry, "faults", "--dir", str(tmp_path), "--clear").output

        assert "reset 1 running simulator(s)" in invoke(registry, "reset", "--dir", str(tmp_path)).output
        client.post("/jobs", json={"name": "after-reset"})
        client.close()
        serve.send_signal(signal.SIGTERM)
        out, err = serve.communicate(timeout=20)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    assert serve.returncode == 0, err
    assert f"kitdemo        {settings['kitdemo']['url'].removesuffix('/api/v1')}" in out
    assert "serving; press Ctrl-C to stop" in out and f"sandbox stopped; state saved in {tmp_path}" in out
    assert not (tmp_path / "serve.json").exists()
    stopped = json.loads(invoke(registry, "objects", "--dir", str(tmp_path), "--json").output)
    assert stopped == {"source": "state", "dir": str(tmp_path), "objects": {"kitdemo": {"job": 1}}}


def test_serve_on_a_taken_port_is_a_clear_error_and_frees_the_dir(registry, tmp_path: Path) -> None:
    """--port-base on a port in use is refused naming the port; the directory is not left locked."""
    import socket

    from skyform.sandbox.session import is_serving

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke(registry, "serve", "--dir", str(tmp_path), "--port-base", str(port))
    assert isinstance(result.exception, SandboxError)
    assert f"port {port} on 127.0.0.1 is already in use" in str(result.exception)
    assert not is_serving(tmp_path) and not (tmp_path / "serve.json").exists()


def test_port_base_assigns_consecutive_ports_in_provider_name_order() -> None:
    """--port-base N gives the simulators N, N+1, ... sorted by provider name (stable across restarts)."""
    import dataclasses

    from skyform.sandbox.session import port_plan

    providers = [dataclasses.replace(PROVIDER, name=n) for n in ("nodeodm", "cvat", "itwin")]
    assert port_plan(providers, 7100) == {"cvat": 7100, "itwin": 7101, "nodeodm": 7102}
    assert port_plan(providers, None) == {}


def test_a_crashed_serve_does_not_count_as_running(registry, tmp_path: Path) -> None:
    """serve.json left by a killed serve (its lock gone) is ignored: counts come from the state files."""
    saved_jobs(tmp_path, 1)
    (tmp_path / "serve.json").write_text(
        '{"pid": 999999, "started_at": 0, "servers": {"kitdemo": "http://127.0.0.1:9"}}'
    )
    (tmp_path / "serve.lock").write_text("999999\n")
    result = invoke(registry, "objects", "--dir", str(tmp_path), "--json")
    assert json.loads(result.output)["source"] == "state"
    lock = ServeLock(tmp_path)
    lock.acquire()  # and a new serve may take the directory
    lock.release()
