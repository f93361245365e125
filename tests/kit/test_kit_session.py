"""start_sandbox: per-provider state files, clock, ports, and clear errors for bad directories and ports."""

from __future__ import annotations

import dataclasses
import re
import socket
from pathlib import Path

import pytest
from skyform_kitdemo.provider import PROVIDER

from skyform.sandbox.host import SandboxError
from skyform.sandbox.session import mission_sandbox_dir, read_providers, start_sandbox, state_files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_job(settings: dict, name: str = "survey-1") -> dict:
    client = PROVIDER.connect(settings)
    try:
        return client.post("/jobs", json={"name": name})
    finally:
        client.close()


def test_state_persists_in_one_file_per_provider_across_restarts(tmp_path: Path) -> None:
    """A second sandbox on the same directory sees the objects the first one created."""
    with start_sandbox([PROVIDER], tmp_path, clock_factor=1000) as host:
        create_job(host.settings()["kitdemo"])
    assert list(state_files(tmp_path)) == ["kitdemo"]
    with start_sandbox([PROVIDER], tmp_path, clock_factor=1000) as host:
        assert host.running["kitdemo"].simulator.objects() == {"job": 1}


def test_in_memory_sandbox_writes_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """state_dir=None keeps simulator state in memory only."""
    monkeypatch.chdir(tmp_path)
    with start_sandbox([PROVIDER], None) as host:
        create_job(host.settings()["kitdemo"])
    assert list(tmp_path.iterdir()) == []


def test_clock_factor_and_fixed_ports_are_applied(tmp_path: Path) -> None:
    """clock_factor sets the shared clock; ports pins a provider's simulator to a port."""
    port = free_port()
    with start_sandbox([PROVIDER], tmp_path, clock_factor=1234, ports={"kitdemo": port}) as host:
        running = host.running["kitdemo"]
        assert running.simulator.clock.factor == 1234
        assert running.base_url == f"http://127.0.0.1:{port}"
        assert host.settings()["kitdemo"]["url"] == f"http://127.0.0.1:{port}/api/v1"


def test_clock_factor_defaults_to_the_environment_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without clock_factor, SKYFORM_SANDBOX_CLOCK as set when the sandbox starts decides."""
    monkeypatch.setenv("SKYFORM_SANDBOX_CLOCK", "4321")
    with start_sandbox([PROVIDER], None) as host:
        assert host.running["kitdemo"].simulator.clock.factor == 4321


@pytest.mark.parametrize("value", ["fast", "0", "-5"])
def test_a_bad_clock_setting_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """SKYFORM_SANDBOX_CLOCK must be a positive number; the message quotes the value."""
    monkeypatch.setenv("SKYFORM_SANDBOX_CLOCK", value)
    with pytest.raises(SandboxError, match=f"SKYFORM_SANDBOX_CLOCK='{value}' is not a positive number"):
        start_sandbox([PROVIDER], None)


def test_providers_without_a_simulator_are_skipped() -> None:
    """Only providers that ship a simulator are started."""
    nosim = dataclasses.replace(PROVIDER, name="nosim", simulator=None)
    with start_sandbox([nosim, PROVIDER], None) as host:
        assert list(host.running) == ["kitdemo"]


def test_port_in_use_is_a_clear_error() -> None:
    """A taken port raises SandboxError naming the port, not an OSError traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SandboxError, match=f"port {port} on 127.0.0.1 is already in use"):
            start_sandbox([PROVIDER], None, ports={"kitdemo": port})


def test_a_failed_start_stops_the_simulators_already_started() -> None:
    """When the second simulator cannot start, the first one's port is released again."""
    second = dataclasses.replace(PROVIDER, name="zz")  # started after kitdemo (name order)
    first_port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(SandboxError):
            start_sandbox([PROVIDER, second], None, ports={"kitdemo": first_port, "zz": taken.getsockname()[1]})
    with socket.socket() as again:
        again.bind(("127.0.0.1", first_port))  # would fail with EADDRINUSE if still served


def test_a_state_dir_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    """A state directory below a file is refused with the reason."""
    (tmp_path / "file").write_text("x")
    with pytest.raises(SandboxError, match=r"cannot create state directory .*file/sandbox: Not a directory"):
        start_sandbox([PROVIDER], tmp_path / "file" / "sandbox")


def test_corrupt_state_is_a_clear_error_with_a_reset_hint(tmp_path: Path) -> None:
    """An unreadable state file names the provider and suggests `skyform sandbox reset`."""
    (tmp_path / "kitdemo.json").write_text("{not json")
    with pytest.raises(SandboxError, match="cannot load the kitdemo simulator's state") as caught:
        start_sandbox([PROVIDER], tmp_path)
    assert "skyform sandbox reset" in (caught.value.hint or "")


def test_missing_providers_json_says_to_start_serve(tmp_path: Path) -> None:
    """Reading providers.json of a directory no serve used explains what to run."""
    with pytest.raises(SandboxError, match=re.escape("providers.json does not exist")) as caught:
        read_providers(tmp_path)
    assert "skyform sandbox serve --dir" in (caught.value.hint or "")


def test_mission_sandbox_dir_is_under_dot_skyform(tmp_path: Path) -> None:
    """A mission's sandbox state lives in <mission dir>/.skyform/sandbox (a file's parent dir)."""
    (tmp_path / "mission.yaml").write_text("")
    assert mission_sandbox_dir(tmp_path) == tmp_path / ".skyform" / "sandbox"
    assert mission_sandbox_dir(tmp_path / "mission.yaml") == tmp_path / ".skyform" / "sandbox"
