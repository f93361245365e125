"""One mission run where its order arrives (a worker's side of gitops --executor celery), without Celery."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from gitops_kit import GitRepo  # type: ignore[import-not-found]

from skyform.gitops.order import MissionOrder
from skyform.gitops.remote import report_from_wire, report_to_wire, run_order


def order_for(repo: GitRepo, path: str, state: Path, *, apply: bool = True) -> MissionOrder:
    return MissionOrder(
        repository=str(repo.root),
        repository_id="https://example.org/survey/missions",
        commit=repo.git("rev-parse", "HEAD"),
        path=path,
        apply=apply,
        state_url=f"sqlite:///{state}",
    )


def test_orders_of_one_repository_run_side_by_side_on_one_worker(repo: GitRepo, registry: Any, tmp_path: Path) -> None:
    """Each mission has its own checkout and lock on the worker: no workspace lock between them."""
    state = tmp_path / "state.db"
    results: dict[str, Any] = {}

    def run(path: str) -> None:
        results[path] = run_order(order_for(repo, path, state), registry=registry, base_dir=tmp_path / "worker")

    threads = [threading.Thread(target=run, args=(p,)) for p in ("missions/alpha", "missions/beta")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert {p: (r.name, r.status, r.errors) for p, r in results.items()} == {
        "missions/alpha": ("alpha", "applied", []),
        "missions/beta": ("beta", "applied", []),
    }
    again = run_order(order_for(repo, "missions/alpha", state), registry=registry, base_dir=tmp_path / "worker")
    assert again.status == "in_sync"
    assert (tmp_path / "worker").glob("*/missions/missions%2Falpha/mission.yaml")


def test_errors_name_the_file_as_in_the_repository(registry: Any, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write(
        "sites/a12/mission.yaml",
        "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: a12}\nresources: {x: {type: nope.Thing, spec: {}}}\n",
    )
    repo.commit("bad type")
    result = run_order(order_for(repo, "sites/a12", tmp_path / "s.db"), registry=registry, base_dir=tmp_path / "w")
    assert result.status == "failed"
    assert result.errors[0].startswith("sites/a12/mission.yaml:4:"), result.errors


def test_a_commit_the_worker_cannot_see_fails_that_mission_with_what_to_do(
    repo: GitRepo, registry: Any, tmp_path: Path
) -> None:
    order = MissionOrder(**{**order_for(repo, "missions/alpha", tmp_path / "s.db").to_wire(), "commit": "0" * 40})
    result = run_order(order, registry=registry, base_dir=tmp_path / "w")
    assert (
        result.status == "failed" and "is not in" in result.errors[0] and "every worker can fetch" in result.errors[0]
    )


def test_the_report_travels_small_and_whole(repo: GitRepo, registry: Any, tmp_path: Path) -> None:
    result = run_order(
        order_for(repo, "missions/alpha", tmp_path / "s.db", apply=False), registry=registry, base_dir=tmp_path / "w"
    )
    wire = report_to_wire(result)
    assert set(wire["plan"]) == {"has_changes", "counts", "cost", "budget", "irreversible", "approval", "actions"}
    back = report_from_wire(wire)
    assert back.to_json() == result.to_json() and back.status == "changes"
    assert MissionOrder.from_wire({**order_for(repo, "x", tmp_path / "s.db").to_wire(), "later_field": 1}).path == "x"
