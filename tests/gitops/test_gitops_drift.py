"""Drift and costs in gitops, with a provider whose objects a test can change behind skyform's back."""

from __future__ import annotations

import json
from pathlib import Path

from gitops_kit import Gitops, GitRepo, by_path  # type: ignore[import-not-found]

NOTE_MISSION = """\
apiVersion: skyform/v1
kind: Mission
metadata: {name: memo}
resources:
  hello:
    type: notes.Note
    spec: {text: "hello"}
"""


def test_refresh_only_reports_drift_as_changes(tmp_path: Path, notes: Path, notes_gitops: Gitops) -> None:
    """An object edited outside skyform: plan --refresh-only --detailed-exitcode exits 2, acting on nothing."""
    repo = GitRepo(tmp_path / "r")
    repo.write("memo/mission.yaml", NOTE_MISSION)
    repo.commit()
    assert notes_gitops("apply", str(repo.root))[0] == 0
    assert notes_gitops("plan", str(repo.root), "--refresh-only", "--detailed-exitcode")[0] == 0
    (note,) = notes.glob("*.json")
    note.write_text(json.dumps({"text": "edited in the dashboard"}))
    code, summary = notes_gitops.json("plan", str(repo.root), "--refresh-only", "--detailed-exitcode")
    assert code == 2, summary
    assert by_path(summary)["memo"]["changes"] is True
    assert json.loads(note.read_text())["text"] == "edited in the dashboard"  # nothing was acted on


def test_costs_in_json_and_markdown(tmp_path: Path, notes: Path, notes_gitops: Gitops) -> None:
    repo = GitRepo(tmp_path / "r")
    repo.write("memo/mission.yaml", NOTE_MISSION)
    repo.commit()
    report = tmp_path / "plan.md"
    code, summary = notes_gitops.json("plan", str(repo.root), "--report-markdown", str(report))
    assert code == 0
    assert by_path(summary)["memo"]["costs"] == [
        {
            "address": "hello",
            "amount": 1.5,
            "currency": "EUR",
            "basis": "one note",
            "confidence": "operator-price",
            "firm": True,
        }
    ]
    assert "| hello | 1.50 EUR |" in report.read_text()


def test_an_over_budget_mission_is_flagged_by_plan_and_refused_by_apply(
    tmp_path: Path, notes: Path, notes_gitops: Gitops
) -> None:
    """budget below the notes' estimate: gitops plan exits 8 and says so in the markdown; gitops apply
    fails that mission naming the budget, and the notes service receives nothing."""
    repo = GitRepo(tmp_path / "r")
    repo.write("memo/mission.yaml", NOTE_MISSION.replace("resources:", "budget: {max: 1, currency: EUR}\nresources:"))
    repo.commit()
    report = tmp_path / "plan.md"
    code, summary = notes_gitops.json("plan", str(repo.root), "--detailed-exitcode", "--report-markdown", str(report))
    assert code == 8, summary
    memo = by_path(summary)["memo"]
    assert memo["cost"]["total"] == {"EUR": 1.5} and memo["cost"]["budget"] == {"max": 1.0, "currency": "EUR"}
    assert [b["ceiling"] for b in memo["over_budget"]] == ["budget.max"]
    text = report.read_text()
    assert "**Estimated total:** 1.50 EUR; budget 1.00 EUR" in text
    assert "> **over budget:** the mission: estimate 1.50 EUR is above budget.max 1.00" in text
    code, summary = notes_gitops.json("apply", str(repo.root))
    assert code == 1, summary
    (error,) = by_path(summary)["memo"]["errors"]
    assert "over the mission's budget" in error and "Items: hello" in error
    assert list(notes.glob("*.json")) == []  # nothing was created
