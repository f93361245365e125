"""``gitops apply --prune`` passes the same gate as any apply (issue 18, trust gaps).

A mission gone from the repository whose deletions lose data is destroyed only with its
``approvals/<mission>.json`` in the commit pruned at: without it the prune is refused
before any request (``needs_approval``, exit 7) and the markdown report says which approval
is missing; ``gitops approve --prune`` writes it, and then the prune goes through. The
report also says what each mission has spent so far.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gitops_kit import Gitops, GitRepo, by_path

KEEPER = """\
apiVersion: skyform/v1
kind: Mission
metadata: {name: keeper}
resources:
  memo: {type: notes.Note, spec: {text: kept, delete_loses: "the meeting's minutes"}}
"""
OTHER = """\
apiVersion: skyform/v1
kind: Mission
metadata: {name: other}
resources:
  memo: {type: notes.Note, spec: {text: other}}
"""


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "r")
    r.write("missions/keeper/mission.yaml", KEEPER)
    r.write("missions/other/mission.yaml", OTHER)
    r.commit("two missions; deleting keeper's memo loses data")
    return r


def texts(notes: Path) -> set[str]:
    return {json.loads(p.read_text())["text"] for p in notes.glob("*.json")}


def test_a_prune_that_loses_data_needs_an_approval(repo: GitRepo, notes: Path, notes_gitops: Gitops, tmp_path: Path):
    code, summary = notes_gitops.json("apply", str(repo.root))
    assert code == 0, summary  # creating loses nothing: no approval needed
    assert texts(notes) == {"kept", "other"}
    (repo.root / "missions" / "keeper" / "mission.yaml").unlink()
    repo.commit("keeper is gone")
    report = tmp_path / "prune.md"
    code, summary = notes_gitops.json("apply", str(repo.root), "--prune", "--report-markdown", str(report))
    assert code == 7, summary
    keeper = by_path(summary)["missions/keeper!"]
    assert keeper["operation"] == "destroy" and keeper["result"] == "needs_approval"
    assert "approvals/keeper.json is not in the commit" in keeper["approval"]["missing"]
    assert "irreversible: memo (delete)" in keeper["approval"]["missing"]
    assert texts(notes) == {"kept", "other"}  # nothing was deleted
    text = report.read_text()
    assert "| keeper | `missions/keeper` | **needs approval** |" in text
    assert "> **approval missing:** the plan needs an approval (irreversible: memo (delete))" in text
    assert "> **irreversible:** memo (delete): deleting it loses the meeting's minutes" in text

    code, out = notes_gitops("approve", str(repo.root), "--prune", "--path", "missions/keeper", "--as", "alice")
    assert code == 0, out
    assert "missions/keeper (keeper): wrote approvals/keeper.json (irreversible: memo (delete))" in out
    repo.commit("approve pruning keeper")
    code, summary = notes_gitops.json("apply", str(repo.root), "--prune")
    assert code == 0, summary
    assert by_path(summary)["missions/keeper!"]["result"] == "destroyed"
    assert texts(notes) == {"other"}


def test_the_report_says_what_each_mission_has_spent(repo: GitRepo, notes_gitops: Gitops, tmp_path: Path):
    assert notes_gitops.json("apply", str(repo.root))[0] == 0
    repo.write("missions/other/mission.yaml", OTHER.replace("text: other", "text: changed"))
    repo.commit("change other")
    report = tmp_path / "plan.md"
    code, summary = notes_gitops.json("plan", str(repo.root), "--report-markdown", str(report))
    assert code == 0, summary
    assert by_path(summary)["missions/other"]["cost"]["spent"]["total"] == {"EUR": 1.5}
    text = report.read_text()
    assert text.count("**Spent so far:** 1.50 EUR (skyform's estimate for memo, not the service's figure)") == 2
