"""Mission discovery parses YAML: flow style, JSON, multi-document files, broken files reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gitops_kit import GitRepo, by_path  # type: ignore[import-not-found]

from skyform.errors import SpecError
from skyform.gitops.discovery import discover
from skyform.spec.kindscan import declares_mission

FLOW = (
    "{apiVersion: skyform/v1, kind: Mission, metadata: {name: flowy},\n"
    ' resources: {photos: {type: local.Files, spec: {glob: "data/*.txt"}}}}\n'
)
AS_JSON = {
    "apiVersion": "skyform/v1",
    "metadata": {"name": "jason", "labels": {"kind": "not this one"}},
    "kind": "Mission",
    "resources": {"photos": {"type": "local.Files", "spec": {"glob": "data/*.txt"}}},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apiVersion: skyform/v1\nkind: Mission\n", True),
        ('kind: "Mission"  # quoted\n', True),
        ("kind: !!str Mission\n", True),
        (FLOW, True),
        (json.dumps(AS_JSON, indent="\t"), True),
        ("kind: ConfigMap\n---\nkind: Mission\n", True),  # any document of the stream
        ("metadata: {kind: Mission}\nkind: Other\n", False),  # nested: not the top level
        ("title: kind\nnote: Mission\n", False),  # a value that spells kind is no key
        ("- kind: Mission\n", False),  # a list is no mission
        ("? [kind]\n: Mission\n", False),  # a complex key is never kind
        ("{{ if .Values.on }}\nkind: Config\n", False),  # a template that never says Mission: not parsed
    ],
)
def test_what_declares_a_mission(text: str, expected: bool) -> None:
    assert declares_mission(text.encode(), "f.yaml") is expected


def test_a_broken_file_that_mentions_mission_names_file_and_line() -> None:
    with pytest.raises(SpecError) as caught:
        declares_mission(b"apiVersion: skyform/v1\nresources: [1\nkind: Mission\n", "m/mission.yaml")
    (problem,) = caught.value.diagnostics
    assert problem.location is not None and (problem.location.file, problem.location.line) == ("m/mission.yaml", 3)
    assert str(problem).startswith("m/mission.yaml:3:") and "invalid YAML" in problem.message


def test_discover_a_tree(tmp_path: Path) -> None:
    files = {
        "block/mission.yaml": "kind: Mission\n",
        "flow/m.yml": FLOW,
        "json/mission.json": json.dumps(AS_JSON),
        "multi/all.yaml": "kind: Config\n---\nkind: Mission\n",
        "broken/mission.yaml": "kind: Mission\nresources: {a: [1}\n",  # says it first: found (load reports)
        "broken-early/mission.yaml": "resources: {a: [1}\nkind: Mission\n",
        "helm/templates/cm.yaml": "{{- if .Values.x }}\nkind: ConfigMap\n",
        "data/area.json": '{"type": "FeatureCollection"}',
        ".hidden/mission.yaml": "kind: Mission\n",
        "notes/readme.txt": "kind: Mission\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = discover(tmp_path)
    assert found.missions == ["block", "broken", "flow", "json", "multi"]
    assert list(found.problems) == ["broken-early"]
    (problem,) = found.problems["broken-early"]
    assert str(problem).startswith(f"{tmp_path}/broken-early/mission.yaml:1:")


def test_gitops_applies_flow_and_json_missions(tmp_path: Path, gitops: Any) -> None:
    """Found, loaded by the engine (a JSON mission file included, a GeoJSON beside it not) and applied."""
    repo = GitRepo(tmp_path / "repo")
    repo.write("flow/mission.yaml", FLOW)
    repo.write("flow/data/a.txt", "a\n")
    repo.write("json/mission.json", json.dumps(AS_JSON, indent=2))
    repo.write("json/area.json", '{"type": "FeatureCollection", "features": []}')
    repo.write("json/data/a.txt", "a\n")
    repo.commit("two missions no regex finds")
    code, summary = gitops.json("apply", str(repo.root))
    assert code == 0, json.dumps(summary)
    missions = by_path(summary)
    assert {p: (m["mission"], m["result"]) for p, m in missions.items()} == {
        "flow": ("flowy", "applied"),
        "json": ("jason", "applied"),
    }


def test_a_broken_mission_file_fails_its_directory_and_is_not_pruned(tmp_path: Path, gitops: Any) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.add_mission("missions/alpha", "alpha")
    repo.add_mission("missions/beta", "beta")
    repo.commit("two")
    assert gitops.json("apply", str(repo.root))[0] == 0
    repo.write("missions/beta/mission.yaml", "apiVersion: skyform/v1\nmetadata: {name: beta\nkind: Mission\n")
    repo.commit("a typo")
    code, summary = gitops.json("apply", str(repo.root), "--prune")
    assert code == 1
    missions = by_path(summary)
    assert set(missions) == {"missions/alpha", "missions/beta"}  # no "missions/beta!": not destroyed
    beta = missions["missions/beta"]
    assert beta["result"] == "failed" and beta["mission"] is None
    (error,) = beta["errors"]
    assert error.startswith("missions/beta/mission.yaml:3:") and "invalid YAML" in error
    assert missions["missions/alpha"]["result"] == "in_sync"


def test_validate_reports_a_broken_mission_file(tmp_path: Path, registry: Any, monkeypatch: Any) -> None:
    from click.testing import CliRunner

    from skyform.cli.gitops import command

    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "mission.yaml").write_text("metadata: [x\nkind: Mission\n")
    (tmp_path / "ci.yaml").write_text("{{ template }}\n")  # never says Mission: ignored
    monkeypatch.chdir(tmp_path)
    for args in (["validate"], ["validate", "m/mission.yaml", "ci.yaml"]):
        run = CliRunner().invoke(command, args, obj={"registry": registry}, standalone_mode=False)
        assert run.return_value == 3, run.output
        assert "m/mission.yaml:2:" in run.output and "invalid YAML" in run.output and "ci.yaml" not in run.output
