"""gitops over a real git repository: apply, change one, prune, a bad commit, --since, reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitops_kit import GitRepo, by_path, mission_yaml  # type: ignore[import-not-found]

from skyform.state import open_store


def states(gitops: Any, registry: Any, url: str | None = None) -> dict[str, Any]:
    """Every mission recorded in the gitops state, by name."""
    url = url or next(iter(gitops.workdir.glob("*/state.db"))).as_uri().replace("file://", "sqlite:///")
    store = open_store(url, gitops.workdir, registry.state_backends.values())
    try:
        return {m.name: m for m in store.missions()}
    finally:
        store.close()


def test_apply_two_missions_then_in_sync(repo: GitRepo, gitops: Any, registry: Any) -> None:
    """Both missions are applied and record the commit; a second run finds them in sync."""
    head = repo.git("rev-parse", "HEAD")
    code, summary = gitops.json("apply", str(repo.root))
    assert code == 0, summary
    missions = by_path(summary)
    assert {p: m["result"] for p, m in missions.items()} == {"missions/alpha": "applied", "missions/beta": "applied"}
    assert missions["missions/alpha"]["counts"] == {"create": 1} and summary["commit"] == head
    recorded = states(gitops, registry)
    assert recorded["alpha"].attributes == {
        "repository": str(repo.root.resolve()),
        "path": "missions/alpha",
        "commit": head,
    }
    assert recorded["alpha"].outputs == {"count": 1}
    code, summary = gitops.json("apply", str(repo.root))
    assert code == 0 and {m["result"] for m in summary["missions"]} == {"in_sync"}


def test_only_the_changed_mission_is_applied(repo: GitRepo, gitops: Any, registry: Any) -> None:
    gitops("apply", str(repo.root))
    repo.add_mission("missions/beta", "beta", files=2)
    head = repo.commit("beta gets a file")
    code, summary = gitops.json("apply", str(repo.root))
    missions = by_path(summary)
    assert code == 0
    assert missions["missions/alpha"]["result"] == "in_sync" and missions["missions/beta"]["result"] == "applied"
    assert missions["missions/beta"]["counts"] == {"update": 1}
    recorded = states(gitops, registry)
    assert recorded["beta"].outputs == {"count": 2}
    assert recorded["alpha"].attributes["commit"] == head  # in-sync missions record the commit too


def test_prune_destroys_a_removed_mission(repo: GitRepo, gitops: Any, registry: Any) -> None:
    gitops("apply", str(repo.root))
    repo.remove("missions/beta")
    repo.commit("beta retired")
    code, summary = gitops.json("apply", str(repo.root))
    assert code == 0 and list(by_path(summary)) == ["missions/alpha"]  # without --prune: left alone
    assert "beta" in states(gitops, registry)
    code, summary = gitops.json("plan", str(repo.root), "--prune", "--detailed-exitcode")
    assert code == 2 and by_path(summary)["missions/beta!"]["counts"] == {"forget": 1}  # local files: nothing remote
    code, summary = gitops.json("apply", str(repo.root), "--prune")
    assert code == 0, summary
    assert by_path(summary)["missions/beta!"]["result"] == "destroyed"
    assert set(states(gitops, registry)) == {"alpha"}
    code, summary = gitops.json("apply", str(repo.root), "--prune")
    assert code == 0 and list(by_path(summary)) == ["missions/alpha"]


def test_prune_refused_by_prevent_destroy_names_the_mission(tmp_path: Path, gitops: Any) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.add_mission("keep", "keep")
    repo.add_mission("precious", "precious", prevent_destroy=True)
    repo.commit()
    gitops("apply", str(repo.root))
    repo.remove("precious")
    repo.commit()
    code, summary = gitops.json("apply", str(repo.root), "--prune")
    assert code == 1
    failed = by_path(summary)["precious!"]
    assert failed["result"] == "failed"
    assert "mission 'precious' (precious) is gone at" in failed["errors"][0]
    assert "prevent_destroy" in failed["errors"][0] and "photos" in failed["errors"][0]
    assert by_path(summary)["keep"]["result"] == "in_sync"


def test_a_bad_commit_fails_that_mission_alone(repo: GitRepo, gitops: Any) -> None:
    gitops("apply", str(repo.root))
    repo.write("missions/alpha/mission.yaml", mission_yaml("alpha").replace("glob:", "glub:"))
    repo.add_mission("missions/gamma", "gamma")
    repo.commit("broken alpha, new gamma")
    code, summary = gitops.json("apply", str(repo.root))
    missions = by_path(summary)
    assert code == 1 and summary["ok"] is False
    assert missions["missions/alpha"]["result"] == "failed"
    errors = missions["missions/alpha"]["errors"]
    assert any("glub" in e for e in errors), errors
    assert errors[0].startswith("missions/alpha/mission.yaml:7:"), errors  # relative to the repository
    assert missions["missions/gamma"]["result"] == "applied"
    assert missions["missions/beta"]["result"] == "in_sync"


def test_since_plans_only_changed_missions(repo: GitRepo, gitops: Any) -> None:
    base = repo.git("rev-parse", "HEAD")
    repo.git("checkout", "--quiet", "-b", "feature")
    repo.write("missions/beta/data/new.txt", "x\n")
    repo.commit("data for beta")
    code, summary = gitops.json("plan", str(repo.root), "--ref", "feature", "--since", base)
    assert code == 0 and list(by_path(summary)) == ["missions/beta"]
    code, summary = gitops.json("plan", str(repo.root), "--ref", "feature", "--since", "feature")
    assert summary["missions"] == []


def test_detailed_exitcode(repo: GitRepo, gitops: Any) -> None:
    """plan --detailed-exitcode: 2 with changes, 0 in sync, 1 when a mission fails."""
    assert gitops("plan", str(repo.root), "--detailed-exitcode")[0] == 2
    assert gitops("plan", str(repo.root))[0] == 0
    gitops("apply", str(repo.root))
    assert gitops("plan", str(repo.root), "--detailed-exitcode")[0] == 0
    repo.write(
        "missions/beta/mission.yaml",
        "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: beta}\nresources: {x: {type: nope.Thing, spec: {}}}\n",
    )
    repo.commit()
    assert gitops("plan", str(repo.root), "--detailed-exitcode")[0] == 1


def test_dirty_work_tree_is_ignored_and_repository_untouched(repo: GitRepo, gitops: Any) -> None:
    """Uncommitted edits are not run, and gitops writes nothing into the repository."""
    repo.write("missions/alpha/data/uncommitted.txt", "dirty\n")
    repo.write("missions/delta/mission.yaml", mission_yaml("delta"))
    status_before = repo.git("status", "--porcelain", "--ignored")
    code, summary = gitops.json("apply", str(repo.root))
    assert code == 0 and set(by_path(summary)) == {"missions/alpha", "missions/beta"}
    assert repo.git("status", "--porcelain", "--ignored") == status_before
    assert not list(repo.root.rglob(".skyform"))


def test_path_globs_select_missions(repo: GitRepo, gitops: Any) -> None:
    code, summary = gitops.json("plan", str(repo.root), "--path", "missions/al*")
    assert code == 0 and list(by_path(summary)) == ["missions/alpha"]
    import pytest

    from skyform.errors import SkyformError

    with pytest.raises(SkyformError, match=r"no mission directory at \w+ matches --path nowhere/\*"):
        gitops("plan", str(repo.root), "--path", "nowhere/*")


def test_text_output_and_markdown_report(repo: GitRepo, gitops: Any, tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    code, out = gitops("plan", str(repo.root), "--report-markdown", str(report))
    assert code == 0
    assert "missions/alpha (alpha) @" in out and "+ photos (local.Files): create" in out
    text = report.read_text()
    assert "### skyform gitops plan:" in text and "| alpha | `missions/alpha` | changes | 1 create |" in text
    assert "+ photos (local.Files): create" in text


def test_same_name_in_two_directories_is_refused(tmp_path: Path, gitops: Any) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.add_mission("a", "twin")
    repo.add_mission("b", "twin")
    repo.commit()
    code, summary = gitops.json("apply", str(repo.root))
    assert code == 1
    assert by_path(summary)["a"]["result"] == "applied"
    assert "mission name 'twin' is also used by a" in by_path(summary)["b"]["errors"][0]


def test_default_state_is_in_the_user_state_dir(repo: GitRepo, registry: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from click.testing import CliRunner

    from skyform.cli.gitops import command

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SKYFORM_STATE", raising=False)
    result = CliRunner().invoke(
        command, ["apply", str(repo.root)], obj={"registry": registry}, standalone_mode=False, catch_exceptions=False
    )
    assert result.return_value == 0
    dbs = list((tmp_path / "xdg" / "skyform" / "gitops").glob("repo-*/state.db"))
    assert len(dbs) == 1


def test_repository_url_is_cloned_not_read_in_place(repo: GitRepo, gitops: Any) -> None:
    code, summary = gitops.json("apply", repo.root.as_uri())
    assert code == 0 and summary["repository"] == repo.root.as_uri()
    repo.add_mission("missions/gamma", "gamma")
    repo.commit()
    code, summary = gitops.json("apply", repo.root.as_uri())  # fetched again
    assert by_path(summary)["missions/gamma"]["result"] == "applied"


def test_bad_ref_is_an_error(repo: GitRepo, gitops: Any) -> None:
    import pytest

    from skyform.gitops.repository import GitError

    with pytest.raises(GitError, match="'nope' is not a commit, branch or tag"):
        gitops("plan", str(repo.root), "--ref", "nope")


def test_json_summary_shape(repo: GitRepo, gitops: Any) -> None:
    _code, summary = gitops.json("plan", str(repo.root))
    assert set(summary) == {"repository", "ref", "commit", "mode", "since", "ok", "summary", "missions"}
    m = summary["missions"][0]
    assert set(m) >= {"path", "mission", "commit", "operation", "result", "counts", "actions", "errors", "costs"}
    assert summary["summary"] == {"changes": 2}
    json.dumps(summary)


def test_validate_changed_files_finds_their_missions(repo: GitRepo, registry: Any, monkeypatch: Any) -> None:
    """The pre-commit hook's command: changed files -> their missions, validated once each."""
    from click.testing import CliRunner

    from skyform.cli.gitops import command

    repo.write("missions/beta/extra.yaml", "resources: {bad: {type: local.Files, spec: {glub: x}}}\n")
    repo.write("ci/workflow.yaml", "on: push\n")
    monkeypatch.chdir(repo.root)
    run = CliRunner().invoke(
        command,
        [
            "validate",
            "missions/alpha/mission.yaml",
            "missions/alpha/data/f0.txt",
            "missions/beta/extra.yaml",
            "ci/workflow.yaml",
        ],
        obj={"registry": registry},
        standalone_mode=False,
        catch_exceptions=False,
    )
    assert run.return_value == 3
    assert run.output.count("missions/alpha: valid (alpha, 1 resource(s))") == 1
    assert "glub" in run.output and "missions/beta:" in run.output and "ci" not in run.output
    everything = CliRunner().invoke(command, ["validate"], obj={"registry": registry}, standalone_mode=False)
    assert everything.return_value == 3 and "missions/alpha: valid" in everything.output


def test_pre_commit_hooks_file_runs_gitops_validate() -> None:
    from ruamel.yaml import YAML

    hooks = YAML(typ="safe").load(Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml")
    assert {h["id"]: h["entry"] for h in hooks} == {
        "skyform-validate": "skyform gitops validate",
        "skyform-validate-all": "skyform gitops validate",
    }
    assert all(h["language"] == "python" for h in hooks)


def test_clones_of_one_origin_share_identity(repo: GitRepo, gitops: Any, registry: Any, tmp_path: Path) -> None:
    """A CI checkout and another clone of the same origin: one repository, one set of missions."""
    import subprocess

    origin = "https://git.example.org/survey/missions.git"
    clones = []
    for name in ("ci-checkout", "laptop"):
        subprocess.run(["git", "clone", "--quiet", str(repo.root), str(tmp_path / name)], check=True)
        subprocess.run(["git", "-C", str(tmp_path / name), "remote", "set-url", "origin", origin], check=True)
        clones.append(tmp_path / name)
    code, summary = gitops.json("apply", str(clones[0]))
    assert code == 0 and summary["repository"] == "https://git.example.org/survey/missions"
    code, summary = gitops.json("apply", str(clones[1]))  # not refused as "another repository"
    assert code == 0 and {m["result"] for m in summary["missions"]} == {"in_sync"}


def test_repository_id_overrides_identity(repo: GitRepo, gitops: Any) -> None:
    code, summary = gitops.json("plan", str(repo.root), "--repository-id", "survey/missions")
    assert code == 0 and summary["repository"] == "survey/missions"


def test_a_mission_name_owned_by_another_repository_is_refused(repo: GitRepo, gitops: Any, tmp_path: Path) -> None:
    state = f"sqlite:///{tmp_path / 'team.db'}"
    assert gitops("apply", str(repo.root), "--state", state)[0] == 0
    other = GitRepo(tmp_path / "other")
    other.add_mission("x", "alpha")
    other.commit()
    code, summary = gitops.json("apply", str(other.root), "--state", state)
    assert code == 1
    error = by_path(summary)["x"]["errors"][0]
    assert f"mission name 'alpha' is already recorded in sqlite:///{tmp_path / 'team.db'} from " in error
    assert "(missions/alpha); two missions may not share a name in one state" in error


def test_prune_without_the_last_commit_fails_and_says_what_to_do(
    repo: GitRepo, gitops: Any, registry: Any, tmp_path: Path
) -> None:
    """History rewritten: the commit a removed mission was applied from is gone; it is kept, not guessed."""
    state = f"sqlite:///{tmp_path / 's.db'}"
    gitops("apply", str(repo.root), "--state", state)
    store = open_store(state, tmp_path, registry.state_backends.values())
    store.write("beta", mission_update={"attributes": {"commit": "0" * 40}})
    store.close()
    repo.remove("missions/beta")
    repo.commit()
    code, summary = gitops.json("apply", str(repo.root), "--prune", "--state", state)
    assert code == 1
    error = by_path(summary)["missions/beta!"]["errors"][0]
    assert (
        "mission 'beta' (missions/beta) is gone from the repository, but the commit it was last applied "
        "from (000000000000) is not in" in error
    )
    assert "beta" in states(gitops, registry, state)
