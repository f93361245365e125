"""The small pieces provenance rests on: the recorded run, the commit, CRS codes, multihashes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from skyform.catalog.commit import head_commit
from skyform.catalog.stac import multihash
from skyform.testing.runner import run_cli
from skyform_nodeodm.datasets import epsg_of


@pytest.mark.parametrize(
    ("proj", "code"),
    [
        ("+proj=utm +zone=32 +datum=WGS84 +units=m +no_defs", "EPSG:32632"),
        ("+proj=utm +zone=7 +south +datum=WGS84 +units=m +no_defs", "EPSG:32707"),
        ("+proj=utm +zone=33 +ellps=WGS84 +units=m", "EPSG:32633"),
        ("EPSG:2056", "EPSG:2056"),
        ("+proj=utm +zone=32 +datum=NAD83", None),  # not WGS84: no guess
        ("+proj=lcc +lat_1=49", None),
        (None, None),
    ],
)
def test_the_crs_odm_wrote_becomes_an_epsg_code_only_when_it_is_certain(proj: str | None, code: str | None) -> None:
    assert epsg_of(proj) == code


def test_a_sha256_multihash_is_the_digest_behind_its_code_and_length() -> None:
    digest = "ab" * 32
    assert multihash(digest) == "1220" + digest


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@e",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@e",
            "HOME": str(cwd),
            "PATH": "/usr/bin:/bin",
        },
    ).stdout.strip()


def test_the_commit_is_read_from_loose_packed_detached_and_worktree_heads(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "missions" / "a12").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "missions" / "a12" / "mission.yaml").write_text("x: 1\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "one")
    first = _git(repo, "rev-parse", "HEAD")
    assert head_commit(repo / "missions" / "a12") == first
    _git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    assert head_commit(repo / "missions" / "a12") == first
    _git(repo, "worktree", "add", "-q", "-b", "other", str(tmp_path / "wt"))
    (tmp_path / "wt" / "f").write_text("2")
    _git(tmp_path / "wt", "add", ".")
    _git(tmp_path / "wt", "commit", "-qm", "two")
    assert head_commit(tmp_path / "wt" / "missions") == _git(tmp_path / "wt", "rev-parse", "HEAD") != first
    _git(repo, "checkout", "-q", "--detach", first)
    assert head_commit(repo) == first
    assert head_commit(tmp_path / "elsewhere-without-git") in ("", head_commit(tmp_path))


def test_every_apply_records_what_its_products_will_name_as_their_origin(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(b"photo")
    (tmp_path / "mission.yaml").write_text(
        "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: prov}\n"
        "resources:\n  photos: {type: local.Files, spec: {glob: '*.jpg'}}\n"
    )
    assert run_cli("apply", "--auto-approve", tmp_path).exit_code == 0
    history = run_cli("history", tmp_path, "--json")
    started = [e for e in history.events if e.get("kind") == "apply_started"]
    block = started[-1]["data"]["provenance"]
    assert block["plan_digest"].startswith("sha256:") and block["spec_digest"]
    assert block["providers"] == {"local": block["providers"]["local"]} and block["skyform"]
