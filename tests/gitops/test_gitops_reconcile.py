"""The reconcile runner: rounds, the observer hook, failed rounds retried, clean shutdown on signals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from gitops_kit import GitRepo  # type: ignore[import-not-found]

from skyform import hookimpl
from skyform.errors import UsageError
from skyform.gitops import Request
from skyform.gitops.reconcile import Reconciler, parse_interval

RUNNER = Path(__file__).with_name("reconcile_runner.py")


class Observer:
    """A plugin recording every round it is told about."""

    def __init__(self) -> None:
        self.rounds: list[tuple[str, list[dict[str, Any]]]] = []

    @hookimpl
    def skyform_reconcile_round(self, repository: str, results: list[dict[str, Any]]) -> None:
        self.rounds.append((repository, results))


class BrokenObserver:
    @hookimpl
    def skyform_reconcile_round(self, results: list[dict[str, Any]]) -> None:
        raise RuntimeError("notifier down")


@pytest.mark.parametrize("text, seconds", [("5m", 300), ("30s", 30), ("1h30m", 5400), ("0.5", 0.5), ("2", 2)])
def test_interval_parsing(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


def test_bad_interval_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="'soon' is not a duration"):
        parse_interval("soon")


def test_rounds_apply_new_commits_and_notify_observers(repo: GitRepo, registry: Any, tmp_path: Path) -> None:
    """Round 1 applies both missions; a commit between rounds is applied in round 2; observers hear both."""
    observer = Observer()
    registry.pm.register(observer)
    registry.pm.register(BrokenObserver())  # must not stop the runner

    def between(number: int, report: Any, error: Any) -> None:
        if number == 1:
            repo.add_mission("missions/beta", "beta", files=3)
            repo.commit("more photos")

    runner = Reconciler(
        Request(repository=str(repo.root), base_dir=tmp_path / "w"),
        interval=0,
        registry=registry,
        on_round=between,
        max_rounds=2,
    )
    assert runner.run() == 0
    assert [r for r, _ in observer.rounds] == [str(repo.root.resolve())] * 2
    first, second = (results for _, results in observer.rounds)
    assert {m["path"]: m["result"] for m in first} == {"missions/alpha": "applied", "missions/beta": "applied"}
    assert {m["path"]: m["result"] for m in second} == {"missions/alpha": "in_sync", "missions/beta": "applied"}


def test_a_failed_round_is_reported_and_retried(repo: GitRepo, registry: Any, tmp_path: Path) -> None:
    observer = Observer()
    registry.pm.register(observer)
    seen: list[Any] = []
    runner = Reconciler(
        Request(repository=str(repo.root), ref="release", base_dir=tmp_path / "w"),
        interval=0,
        registry=registry,
        max_rounds=3,
        on_round=lambda n, report, error: seen.append(error) or (n == 2 and repo.git("branch", "release")),
    )
    assert runner.run() == 0  # the last round succeeded once the branch existed
    assert [e is None for e in seen] == [False, False, True]
    assert "'release' is not a commit, branch or tag" in observer.rounds[0][1][0]["errors"][0]
    assert observer.rounds[2][1][0]["result"] == "applied"


def _readline(proc: subprocess.Popen[str], timeout: float) -> str:
    """The child's next stdout line, failing (not hanging) if it does not come."""
    import selectors

    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
        if not sel.select(timeout):
            proc.kill()
            pytest.fail(f"no output from the runner in {timeout} s")
    return proc.stdout.readline()  # type: ignore[union-attr]


def _start(repo: GitRepo, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(RUNNER), str(repo.root), "--workdir", str(tmp_path / "w"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_the_runner_cleanly(repo: GitRepo, tmp_path: Path, sig: signal.Signals) -> None:
    """A signal during the sleep ends the runner at once, with exit 0 and no traceback."""
    proc = _start(repo, tmp_path, "--interval", "10m", "--json")
    try:
        line = _readline(proc, timeout=60)
        assert json.loads(line)["ok"] is True, proc.stderr.read() if proc.stderr else ""
        started = time.monotonic()
        proc.send_signal(sig)
        try:
            assert proc.wait(timeout=15) == 0
        except subprocess.TimeoutExpired:
            pytest.fail("the runner did not stop within 15 s of the signal")
        assert time.monotonic() - started < 10
        err = proc.stderr.read()  # type: ignore[union-attr]
        assert "Traceback" not in err and "stopping after the current step" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_text_output_of_rounds(repo: GitRepo, registry: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from skyform.cli.reconcile import command

    result = CliRunner().invoke(
        command,
        [str(repo.root), "--interval", "0", "--max-rounds", "2", "--workdir", str(tmp_path / "w")],
        obj={"registry": registry},
        standalone_mode=False,
        catch_exceptions=False,
    )
    lines = result.output.splitlines()
    assert result.return_value == 0
    assert lines[0].startswith("round 1 at ") and lines[0].endswith(", 2 mission(s)")
    assert any("missions/alpha (alpha)" in line and "applied" in line for line in lines)
    assert next(line for line in lines if line.startswith("round 2")).endswith(", 2 mission(s)")


NOTE = (
    "apiVersion: skyform/v1\nkind: Mission\nmetadata: {{name: {name}}}\n"
    "resources:\n  n:\n    type: notes.Note\n    spec: {{text: {name}}}\n"
)


def test_sigterm_during_an_apply_finishes_the_call_and_starts_nothing_else(tmp_path: Path) -> None:
    """The in-flight create completes and is recorded; the next mission never starts."""
    import os

    from skyform.state import open_store
    from skyform.state.plugin import skyform_state_backends

    repo = GitRepo(tmp_path / "r")
    repo.write("a/mission.yaml", NOTE.format(name="first"))
    repo.write("b/mission.yaml", NOTE.format(name="second"))
    repo.commit()
    service = tmp_path / "service"
    service.mkdir()
    state = f"sqlite:///{tmp_path / 's.db'}"
    env = dict(os.environ, SKYFORM_TEST_NOTES_DIR=str(service), SKYFORM_TEST_NOTES_DELAY="2")
    proc = subprocess.Popen(
        [
            sys.executable,
            str(RUNNER),
            str(repo.root),
            "--workdir",
            str(tmp_path / "w"),
            "--state",
            state,
            "--interval",
            "10m",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not (service / "first.creating").exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()  # type: ignore[union-attr]
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert not (service / "second.creating").exists()  # the next mission never started
    store = open_store(state, tmp_path, skyform_state_backends())
    try:
        recorded = store.resources("first")
        assert recorded["n"].status == "ready" and (service / f"{recorded['n'].remote_id}.json").exists()
        assert store.mission("second") is None
        assert store.lock_info("first") is None
    finally:
        store.close()
    assert json.loads(out.splitlines()[0])["round"] == 1
