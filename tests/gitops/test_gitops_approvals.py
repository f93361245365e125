"""GitOps approvals (issue 18 item 4): ``approvals/<mission>.json`` committed with the change.

A mission whose plan has an irreversible action is applied by ``gitops apply`` only when
the commit holds an approval of that very plan (written by ``skyform gitops approve``);
the others are applied, the unapproved one is refused before any request (exit 7), and the
markdown report says which approval is missing. A stale or expired file is refused too.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from gitops_kit import Gitops, GitRepo, by_path

MEMO = """\
apiVersion: skyform/v1
kind: Mission
metadata: {{name: {name}}}
resources:
  memo: {{type: notes.Note, spec: {{text: {name}, irreversible: "a memo once sent is read"}}}}
"""
PLAIN = """\
apiVersion: skyform/v1
kind: Mission
metadata: {name: plain}
resources:
  memo: {type: notes.Note, spec: {text: plain}}
"""


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "r")
    r.write("missions/alpha/mission.yaml", MEMO.format(name="alpha"))
    r.write("missions/beta/mission.yaml", MEMO.format(name="beta"))
    r.write("missions/plain/mission.yaml", PLAIN)
    r.commit("three missions, two irreversible")
    return r


def sent(notes: Path) -> set[str]:
    return {json.loads(p.read_text())["text"] for p in notes.glob("*.json")}


def test_gitops_applies_only_the_approved_missions(repo: GitRepo, notes: Path, notes_gitops: Gitops, tmp_path: Path):
    code, out = notes_gitops("approve", str(repo.root), "--path", "missions/alpha", "--as", "alice")
    assert code == 0, out
    assert "missions/alpha (alpha): wrote approvals/alpha.json (irreversible: memo (create))" in out
    approval = json.loads((repo.root / "approvals" / "alpha.json").read_text())
    assert approval["format"] == "skyform-approval" and approval["mission"] == "alpha"
    assert approval["approvers"][0]["name"] == "alice" and approval["irreversible"] == ["memo"]
    repo.commit("approve alpha")
    report = tmp_path / "report.md"
    code, summary = notes_gitops.json("apply", str(repo.root), "--report-markdown", str(report))
    assert code == 7, summary  # refused: one mission lacks its approval
    missions = by_path(summary)
    assert missions["missions/alpha"]["result"] == "applied"
    assert missions["missions/plain"]["result"] == "applied"  # nothing irreversible: no approval needed
    beta = missions["missions/beta"]
    assert beta["result"] == "needs_approval"
    assert "approvals/beta.json is not in the commit" in beta["approval"]["missing"]
    assert sent(notes) == {"alpha", "plain"}  # not one request for beta
    text = report.read_text()
    assert "| beta | `missions/beta` | **needs approval** |" in text
    assert "> **approval missing:** the plan needs an approval (irreversible: memo (create))" in text
    assert "> **irreversible:** memo (create): a memo once sent is read" in text


def test_the_plan_report_says_which_approvals_are_missing(repo: GitRepo, notes_gitops: Gitops, tmp_path: Path):
    report = tmp_path / "plan.md"
    code, summary = notes_gitops.json("plan", str(repo.root), "--report-markdown", str(report))
    assert code == 0, summary
    missions = by_path(summary)
    assert missions["missions/alpha"]["approval"]["needed"] is True
    assert missions["missions/alpha"]["approval"]["digest"].startswith("sha256:")
    assert missions["missions/plain"]["approval"]["needed"] is False
    assert missions["missions/plain"]["approval"]["missing"] is None
    assert report.read_text().count("> **approval missing:**") == 2


def test_a_stale_approval_file_is_refused(repo: GitRepo, notes: Path, notes_gitops: Gitops):
    assert notes_gitops("approve", str(repo.root), "--path", "missions/alpha", "--as", "alice")[0] == 0
    repo.write("missions/alpha/mission.yaml", MEMO.format(name="alpha").replace("once sent", "once posted"))
    repo.commit("approve, then change the mission")
    code, summary = notes_gitops.json("apply", str(repo.root), "--path", "missions/alpha")
    assert code == 7, summary
    missing = by_path(summary)["missions/alpha"]["approval"]["missing"]
    assert "the plan changed since approvals/alpha.json approved it" in missing
    assert sent(notes) == set()


def test_an_expired_approval_file_is_refused(repo: GitRepo, notes: Path, notes_gitops: Gitops):
    assert notes_gitops("approve", str(repo.root), "--path", "missions/alpha", "--expires", "1s")[0] == 0
    repo.commit("approve briefly")
    time.sleep(1.2)
    code, summary = notes_gitops.json("apply", str(repo.root), "--path", "missions/alpha")
    assert code == 7, summary
    assert "has none usable" in by_path(summary)["missions/alpha"]["approval"]["missing"]
    assert "expired at" in by_path(summary)["missions/alpha"]["approval"]["missing"]
    assert sent(notes) == set()


def test_a_repository_policy_asks_for_more_approvers(repo: GitRepo, notes: Path, notes_gitops: Gitops):
    """approvals/policy.yaml applies to every mission: two people must approve an irreversible plan."""
    repo.write("approvals/policy.yaml", "policy: {irreversible_approvals: 2}\n")
    repo.commit("the repository's policy")
    assert notes_gitops("approve", str(repo.root), "--path", "missions/alpha", "--as", "alice")[0] == 0
    repo.commit("alice approves")
    code, summary = notes_gitops.json("apply", str(repo.root), "--path", "missions/alpha")
    assert code == 7, summary
    missing = by_path(summary)["missions/alpha"]["approval"]["missing"]
    assert "the plan needs 2 approval(s) and approvals/alpha.json has 1 usable (alice)" in missing
    assert sent(notes) == set()
    assert notes_gitops("approve", str(repo.root), "--path", "missions/alpha", "--as", "bob")[0] == 0
    approvers = json.loads((repo.root / "approvals" / "alpha.json").read_text())["approvers"]
    assert [a["name"] for a in approvers] == ["alice", "bob"]
    repo.commit("bob approves too")
    code, summary = notes_gitops.json("apply", str(repo.root), "--path", "missions/alpha")
    assert code == 0, summary
    assert sent(notes) == {"alpha"}


def test_a_broken_repository_policy_fails_the_run_naming_file_line_and_field(repo: GitRepo, notes_gitops: Gitops):
    from skyform.errors import SpecError

    repo.write("approvals/policy.yaml", "policy:\n  max_total: lots\n  currency: EUR\n")
    repo.commit("a broken policy")
    with pytest.raises(SpecError) as err:
        notes_gitops("apply", str(repo.root))
    text = "\n".join(str(d) for d in err.value.diagnostics)
    assert text == (
        "approvals/policy.yaml:2:3: policy.max_total: max_total must be a number, not the string 'lots' "
        "[repository policy]"
    )


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("{not json", "approvals/alpha.json cannot be read as JSON"),
        ('{"mission": "alpha"}', 'approvals/alpha.json is not a skyform approval (it must open with "format"'),
        (
            '{"format": "skyform-approval", "format_version": 9}',
            "approvals/alpha.json is of format version 9; this skyform reads 1",
        ),
        (None, "approvals/alpha.json has an approver entry that is not {name, at, expires_at}: {'name': 'alice'}"),
    ],
    ids=["not-json", "not-an-approval", "future-version", "bad-approver"],
)
def test_a_malformed_approval_file_is_refused_naming_what_is_wrong(
    repo: GitRepo, notes: Path, notes_gitops: Gitops, content: str | None, said: str
):
    """A hand-edited or half-merged approvals/<mission>.json never lets a plan through, and
    never ends in a traceback: the mission is needs_approval (exit 7), the report says why."""
    assert notes_gitops("approve", str(repo.root), "--path", "missions/alpha", "--as", "alice")[0] == 0
    path = repo.root / "approvals" / "alpha.json"
    if content is None:  # a real approval whose approver lost its dates
        data = json.loads(path.read_text())
        data["approvers"] = [{"name": "alice"}]
        content = json.dumps(data)
    repo.write("approvals/alpha.json", content)
    repo.commit("a broken approval")
    code, summary = notes_gitops.json("apply", str(repo.root), "--path", "missions/alpha")
    assert code == 7, summary
    mission = by_path(summary)["missions/alpha"]
    assert mission["result"] == "needs_approval"
    assert said in mission["approval"]["missing"]
    assert sent(notes) == set()
