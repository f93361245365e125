"""gitops over a shared state (SQLite file or PostgreSQL): locks respected, runners in parallel."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gitops_kit import GitRepo, by_path  # type: ignore[import-not-found]

from skyform.errors import StateError
from skyform.state import open_store

RUNNER = Path(__file__).with_name("gitops_runner.py")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_state(request: pytest.FixtureRequest, tmp_path: Path, registry: Any) -> Iterator[str]:
    """A state URL several runners share; PostgreSQL in a schema of its own, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    base = os.environ.get("SKYFORM_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("SKYFORM_TEST_POSTGRES_URL is not set")
    url = f"{base}{'&' if '?' in base else '?'}schema=skyform_gitops_{uuid.uuid4().hex[:12]}"
    try:
        store = open_store(url, tmp_path, registry.state_backends.values())
    except StateError as exc:
        pytest.fail(f"SKYFORM_TEST_POSTGRES_URL is set but PostgreSQL is unreachable: {exc}")
    yield url
    store.drop_schema()  # type: ignore[attr-defined]
    store.close()


def test_a_locked_mission_fails_alone(
    repo: GitRepo, gitops: Any, registry: Any, shared_state: str, tmp_path: Path
) -> None:
    """Another runner holding alpha's lock: alpha fails naming the holder, beta is applied."""
    gitops("apply", str(repo.root), "--state", shared_state)
    repo.add_mission("missions/alpha", "alpha", files=2)
    repo.add_mission("missions/beta", "beta", files=2)
    repo.commit()
    holder = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).parents[1] / "state" / "lock_holder.py"),
            shared_state,
            str(tmp_path),
            "alpha",
            "hold",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"  # type: ignore[union-attr]
        code, summary = gitops.json("apply", str(repo.root), "--state", shared_state)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    missions = by_path(summary)
    assert code == 1
    assert missions["missions/beta"]["result"] == "applied"
    assert missions["missions/alpha"]["result"] == "failed"
    assert "mission 'alpha' is locked by" in missions["missions/alpha"]["errors"][0]
    assert f"(pid {holder.pid} on" in missions["missions/alpha"]["errors"][0]


def test_two_runners_apply_different_missions_in_parallel(repo: GitRepo, shared_state: str, tmp_path: Path) -> None:
    """Two gitops processes (as on two machines: separate workspaces) share one state."""
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(RUNNER),
                "apply",
                str(repo.root),
                "--state",
                shared_state,
                "--path",
                path,
                "--workdir",
                str(tmp_path / f"w{i}"),
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, path in enumerate(("missions/alpha", "missions/beta"))
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    import json

    results = [json.loads(out)["missions"][0]["result"] for out, _ in outputs]
    assert results == ["applied", "applied"]
    assert "Traceback" not in outputs[0][1] + outputs[1][1]


MIRRORED = """\
apiVersion: skyform/v1
kind: Mission
metadata: {name: site}
resources:
  photos: {type: local.Files, spec: {glob: "data/*.txt"}}
  memo: {type: notes.Note, spec: {text: "${{ resources.photos.outputs.paths[0] }}"}}
"""


def test_two_mirrors_of_one_repository_share_state_without_changing_anything(
    tmp_path: Path, shared_state: str, notes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two gitops runners (two machines' mirrors, at different paths) over one state: a
    mission applied by one is in sync for the other, though its objects were made from a
    file path (local.Files names its files relative to the mission directory)."""
    import notes_provider  # type: ignore[import-not-found]
    from gitops_kit import Gitops  # type: ignore[import-not-found]

    import skyform.state.plugin as state_plugin
    import skyform_local.plugin as local_plugin
    from skyform.providers.host import build_plugin_manager, load_registry

    repo = GitRepo(tmp_path / "repo")
    repo.write("sites/a12/mission.yaml", MIRRORED)
    repo.write("sites/a12/data/photo.txt", "a photo\n")
    repo.commit("one site")
    monkeypatch.delenv("SKYFORM_STATE", raising=False)
    registry = load_registry(build_plugin_manager([state_plugin, local_plugin, notes_provider], autoload=False))
    first, second = Gitops(registry, tmp_path / "worker-1" / "gitops"), Gitops(registry, tmp_path / "w2")
    code, summary = first.json("apply", str(repo.root), "--state", shared_state)
    assert code == 0 and by_path(summary)["sites/a12"]["result"] == "applied", summary
    store = open_store(shared_state, tmp_path, registry.state_backends.values())
    try:
        assert store.resources("site")["memo"].spec["text"] == "data/photo.txt"
    finally:
        store.close()
    code, summary = second.json("plan", str(repo.root), "--state", shared_state, "--detailed-exitcode")
    assert code == 0 and by_path(summary)["sites/a12"]["result"] == "in_sync", summary
    code, summary = second.json("apply", str(repo.root), "--state", shared_state)
    assert code == 0 and by_path(summary)["sites/a12"]["result"] == "in_sync", summary
    assert len(list(notes.glob("*.json"))) == 1  # one note: made once, never again
