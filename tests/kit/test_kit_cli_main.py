"""The sandbox and plugin commands through the main CLI: wired in, errors as messages with exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_sandbox_errors_print_a_message_not_a_traceback(run_skyform, kitdemo, tmp_path: Path) -> None:
    """An unusable --dir ends with exit 1 and the reason, as the user sees it."""
    (tmp_path / "file").write_text("")
    result = run_skyform("sandbox", "serve", "--dir", str(tmp_path / "file" / "sbx"), providers=[kitdemo])
    assert result.exit_code == 1, result.output
    assert "sandbox: cannot create state directory" in result.stderr
    assert "Traceback" not in result.output


def test_sandbox_objects_and_reset_through_the_main_cli(run_skyform, kitdemo, tmp_path: Path) -> None:
    """`skyform sandbox objects --json` and `reset` work on a mission's sandbox directory."""
    from skyform.sandbox.session import start_sandbox

    with start_sandbox([kitdemo], tmp_path / ".skyform" / "sandbox") as host:
        client = kitdemo.connect(host.settings()["kitdemo"])
        client.post("/jobs", json={"name": "a"})
        client.close()
    counted = run_skyform("sandbox", "objects", "--json", str(tmp_path), providers=[kitdemo])
    assert counted.exit_code == 0, counted.output
    assert counted.json()["objects"] == {"kitdemo": {"job": 1}}
    reset = run_skyform("sandbox", "reset", str(tmp_path), providers=[kitdemo])
    assert reset.exit_code == 0 and "cleared kitdemo" in reset.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["faults", "--dir", "."], "give a fault rules FILE or --clear"),
    ],
)
def test_sandbox_usage_errors_exit_64(run_skyform, args: list[str], message: str) -> None:
    """Wrong arguments are usage errors (exit 64) with a message saying what to give."""
    result = run_skyform("sandbox", *args)
    assert result.exit_code == 64, result.output
    assert message in result.stderr


def test_plugin_new_through_the_main_cli(run_skyform, tmp_path: Path) -> None:
    """`skyform plugin new` creates the package; a bad name is a usage error (exit 64)."""
    made = run_skyform("plugin", "new", "acme", "--dir", str(tmp_path))
    assert made.exit_code == 0 and (tmp_path / "skyform-acme" / "pyproject.toml").exists()
    bad = run_skyform("plugin", "new", "Acme", "--dir", str(tmp_path))
    assert bad.exit_code == 64
    assert "invalid provider name 'Acme'" in bad.stderr
