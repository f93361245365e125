"""``gitops plan|apply --jobs N``: missions side by side, one report in mission order, --fail-fast."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gitops_kit import Gitops, GitRepo, by_path  # type: ignore[import-not-found]


@pytest.fixture
def meet() -> Iterator[Any]:
    import meeting_provider  # type: ignore[import-not-found]

    meeting_provider.reset()
    yield meeting_provider
    meeting_provider.reset()


@pytest.fixture
def gitops(meet: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Gitops:
    """gitops with the local provider and ``meet.Point`` (creations that wait for each other)."""
    import skyform.state.plugin as state_plugin
    import skyform_local.plugin as local_plugin
    from skyform.providers.host import build_plugin_manager, load_registry

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.delenv("SKYFORM_STATE", raising=False)
    registry = load_registry(build_plugin_manager([state_plugin, local_plugin, meet], autoload=False))
    return Gitops(registry, tmp_path / "gitops-work")


def point_mission(name: str, *, meets: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> str:
    return (
        f"apiVersion: skyform/v1\nkind: Mission\nmetadata: {{name: {name}}}\n"
        f"resources:\n  p: {{type: meet.Point, spec: {{name: {name}, meets: {list(meets)}, after: {list(after)}}}}}\n"
    )


def repo_of(tmp_path: Path, missions: dict[str, str]) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    for path, text in missions.items():
        repo.write(f"{path}/mission.yaml", text)
    repo.commit("missions")
    return repo


def test_missions_run_side_by_side(tmp_path: Path, gitops: Any) -> None:
    """Each creation waits until the three have all started: only --jobs 3 gets them past it."""
    names = ("a", "b", "c")
    repo = repo_of(tmp_path, {n: point_mission(n, meets=tuple(o for o in names if o != n)) for n in names})
    code, summary = gitops.json("apply", str(repo.root), "--jobs", "3")
    assert code == 0, [m["errors"] for m in summary["missions"]]
    assert [(m["path"], m["result"]) for m in summary["missions"]] == [
        ("a", "applied"),
        ("b", "applied"),
        ("c", "applied"),
    ]


def test_the_report_keeps_mission_order_not_completion_order(tmp_path: Path, gitops: Any, meet: Any) -> None:
    """a finishes last, c first; the text, JSON and markdown reports still read a, b, c."""
    repo = repo_of(
        tmp_path,
        {"a": point_mission("a", after=("b",)), "b": point_mission("b", after=("c",)), "c": point_mission("c")},
    )
    code, text = gitops("apply", str(repo.root), "--jobs", "3", "--report-markdown", str(tmp_path / "r.md"))
    assert code == 0, text
    assert meet.order == ["c", "b", "a"]  # they really finished the other way round
    headings = [line.split(" ")[0] for line in text.splitlines() if " @ " in line]
    assert headings == ["a", "b", "c"], text
    markdown = (tmp_path / "r.md").read_text()
    assert markdown.index("| a |") < markdown.index("| b |") < markdown.index("| c |")
    # a second run plans nothing; its text equals a --jobs 1 run's, line for line
    parallel = gitops("plan", str(repo.root), "--jobs", "3")
    serial = gitops("plan", str(repo.root))
    assert parallel == serial and parallel[0] == 0


def test_a_failing_mission_does_not_stop_the_others(tmp_path: Path, gitops: Any) -> None:
    bad = "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: bad}\nresources: {x: {type: nope.Thing, spec: {}}}\n"
    repo = repo_of(tmp_path, {"a": bad, "b": point_mission("b"), "c": point_mission("c"), "d": point_mission("d")})
    code, summary = gitops.json("apply", str(repo.root), "--jobs", "2")
    assert code == 1
    assert {p: m["result"] for p, m in by_path(summary).items()} == {
        "a": "failed",
        "b": "applied",
        "c": "applied",
        "d": "applied",
    }


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fail_fast_starts_no_further_mission_and_says_which(tmp_path: Path, gitops: Any, jobs: str) -> None:
    """a fails while loading; with --jobs 2, b had already started with it and finishes; c and d never start."""
    bad = "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: bad}\nresources: {x: {type: nope.Thing, spec: {}}}\n"
    repo = repo_of(tmp_path, {"a": bad, "b": point_mission("b"), "c": point_mission("c"), "d": point_mission("d")})
    code, summary = gitops.json("apply", str(repo.root), "--jobs", jobs, "--fail-fast")
    assert code == 1
    results = {p: m["result"] for p, m in by_path(summary).items()}
    expected_b = "not_run" if jobs == "1" else "applied"
    assert results == {"a": "failed", "b": expected_b, "c": "not_run", "d": "not_run"}
    assert by_path(summary)["c"]["warnings"] == ["not run: --fail-fast stopped the run after a failed"]
    assert summary["summary"]["not_run"] == (3 if jobs == "1" else 2)
    code, text = gitops("plan", str(repo.root), "--jobs", jobs, "--fail-fast")
    assert code == 1 and "c @ " in text and ": not run" in text and "not run (--fail-fast)." in text


def test_one_name_in_two_directories_fails_the_later_one_whatever_the_timing(tmp_path: Path, gitops: Any) -> None:
    twin = point_mission("twin")
    repo = repo_of(tmp_path, {"a": twin, "b": twin, "c": point_mission("c")})
    code, summary = gitops.json("apply", str(repo.root), "--jobs", "3")
    assert code == 1
    missions = by_path(summary)
    assert missions["a"]["result"] == "applied" and missions["c"]["result"] == "applied"
    assert "mission name 'twin' is also used by a" in missions["b"]["errors"][0]


def test_jobs_is_in_the_help_of_plan_apply_and_reconcile() -> None:
    from click.testing import CliRunner

    from skyform.cli.main import cli

    for args in (["gitops", "plan"], ["gitops", "apply"], ["reconcile"]):
        out = CliRunner().invoke(cli, [*args, "--help"]).output
        assert "--jobs" in out and "--fail-fast" in out, args
