"""``gitops apply --executor celery``: one Celery task per mission on real workers (RabbitMQ, PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gitops"))
from gitops_kit import GitRepo  # type: ignore[import-not-found]

Cluster = Any  # tests/distributed/conftest.py's: workers, queues and a PostgreSQL schema per test


def skyform(*args: str) -> list[str]:
    return [sys.executable, "-c", "from skyform.cli.main import main; main()", *args]


def gitops(cluster: Cluster, repo: GitRepo, queue: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        skyform(
            "gitops",
            "apply",
            str(repo.root),
            "--executor",
            "celery",
            "--broker",
            cluster.broker,
            "--queue",
            queue,
            "--state",
            cluster.state,
            "--workdir",
            str(cluster.tmp / "coordinator"),
            *args,
        ),
        env=cluster.env,
        cwd=cluster.tmp,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_missions_fan_out_to_workers_and_come_back_as_one_report(cluster: Cluster, tmp_path: Path) -> None:
    queue = cluster.queue("missions")
    repo = GitRepo(tmp_path / "repo")
    for name in ("alpha", "beta", "gamma"):
        repo.add_mission(f"sites/{name}", name, files=2)
    repo.write("sites/broken/mission.yaml", "kind: Mission\nmetadata: [x\n")
    commit = repo.commit("three sites and a typo")
    # one machine: the workers share its gitops directory (each mission has its own checkout
    # and lock there); mirrors at other paths are tests/gitops/test_gitops_state.py's case
    machine = {"XDG_STATE_HOME": str(tmp_path / "worker-machine")}
    first, second = cluster.worker(queue, env=machine), cluster.worker(queue, env=machine)
    ran = gitops(cluster, repo, queue, "--jobs", "4", "--json")
    assert ran.returncode == 1, ran.stderr  # the broken directory fails; the others apply
    summary = json.loads(ran.stdout)
    assert [(m["path"], m["result"]) for m in summary["missions"]] == [
        ("sites/alpha", "applied"),
        ("sites/beta", "applied"),
        ("sites/broken", "failed"),
        ("sites/gamma", "applied"),
    ]
    assert summary["missions"][0]["counts"] == {"create": 1}
    # which worker ran what is said while it runs; both took missions
    seen = {line.rsplit(" ", 1)[-1] for line in ran.stderr.splitlines() if "running on worker" in line}
    assert seen <= {first.name, second.name} and len(seen) >= 1, ran.stderr
    store = cluster.store()
    try:
        recorded = {m.name: m for m in store.missions()}
    finally:
        store.close()
    assert recorded["beta"].attributes["commit"] == commit and recorded["beta"].outputs == {"count": 2}
    assert recorded["beta"].attributes["path"] == "sites/beta"
    again = gitops(cluster, repo, queue, "--jobs", "4", "--json", "--path", "sites/*a")
    assert again.returncode == 0, again.stderr
    assert {m["result"] for m in json.loads(again.stdout)["missions"]} == {"in_sync"}, again.stdout


def test_a_sqlite_state_is_refused_with_what_to_do(cluster: Cluster, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.add_mission("a", "a")
    repo.commit()
    ran = subprocess.run(
        skyform(
            "gitops",
            "apply",
            str(repo.root),
            "--executor",
            "celery",
            "--broker",
            cluster.broker,
            "--workdir",
            str(tmp_path / "w"),
        ),
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 64 and "--state postgresql://" in ran.stderr and "Traceback" not in ran.stderr
