"""The distributed kill campaign (tests/reliability/killkit.py, benchmarks/kill_campaign.py).

Real parts: ``skyform sandbox serve``, ``skyform worker`` processes on the machine's
RabbitMQ, state in PostgreSQL. The default run keeps one small seeded case: a photo set and
a NodeODM task, its worker SIGKILLed in the middle of the upload; the slow pass runs a
round of the whole demo with three kills, one of them the coordinator's.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import crash
import killkit
import rkit

RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
UPLOAD = [p for p in killkit.WORKER_PHASES if p.name == "upload"]


@pytest.fixture(scope="module")
def serve(tmp_path_factory):
    with rkit.Serve(tmp_path_factory.mktemp("kill-serve") / "sbx", clock=20000) as served:
        yield served


def _env(root: Path) -> dict[str, str]:
    return rkit.clean_env(XDG_CACHE_HOME=str(root / "cache"), XDG_STATE_HOME=str(root / "xdg-state"))


def test_a_worker_killed_in_the_middle_of_a_nodeodm_upload_leaves_one_task_and_verified_artifacts(serve, tmp_path):
    env = _env(tmp_path)
    serve.reset()
    clean = killkit.photogrammetry(tmp_path / "clean", serve, None)
    done = rkit.cli("apply", "--auto-approve", str(clean), env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    expected = serve.objects()
    result = killkit.run_round(
        serve,
        tmp_path / "round",
        expected,
        random.Random(7),
        1,
        env,
        RABBITMQ,
        coordinator_kill=False,
        build=killkit.photogrammetry,
        phases=UPLOAD,
    )
    assert [(k.target, k.phase, k.hit) for k in result.kills] == [("worker", "upload", True)], result.notes
    assert result.converged, result.notes
    assert (result.duplicated, result.lost, result.corrupt_artifacts) == (0, 0, 0)
    assert result.artifacts >= 1  # the all.zip the replacement worker downloaded, verified


@pytest.mark.slow
def test_a_round_of_the_demo_with_workers_and_the_coordinator_killed_converges(serve, tmp_path):
    env = _env(tmp_path)
    serve.set_faults(crash.LATENCY_RULES)
    try:
        expected = crash.expected_objects(serve, tmp_path, env)
        result = killkit.run_round(serve, tmp_path / "round", expected, random.Random(4), 3, env, RABBITMQ)
    finally:
        serve.set_faults([])
    assert sum(k.hit for k in result.kills) >= 2, result.kills
    assert result.converged, result.notes
    assert (result.duplicated, result.lost, result.corrupt_artifacts) == (0, 0, 0)
