"""Faults: the simulators misbehave the way services do; skyform still converges.

Against `skyform sandbox serve` with SKYFORM_SANDBOX_FAULTS rules (the applies run in-process,
`rkit.cli`; the serve is a process of its own, as in use): 429 with and without
Retry-After, 500/503, latency and dropped connections at set rates (the demo mission
still converges, nothing is created twice), a Retry-After that is honoured, a stuck job
cancelled at `lifecycle.timeout`, and retries that stop at `lifecycle.retries`.
The long version with several seeds is benchmarks/fault_campaign.py.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import faultkit
import rkit


@pytest.fixture(scope="module")
def shared_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[rkit.Serve]:
    """One ``skyform sandbox serve`` (20,000x) for the module's tests: its start was a process
    and about a third of each test; every test resets it and sets its own fault rules."""
    with rkit.Serve(tmp_path_factory.mktemp("faults") / "sbx", clock=20000) as served:
        yield served


@contextmanager
def serving(serve: rkit.Serve, rules: list[dict[str, Any]]) -> Iterator[rkit.Serve]:
    """The shared serve, emptied, answering with ``rules`` until the block ends."""
    serve.reset()
    serve.set_faults(rules)
    try:
        yield serve
    finally:
        serve.set_faults([])


@pytest.mark.slow  # a campaign: the demo mission under random faults
def test_demo_mission_converges_under_request_faults(tmp_path: Path) -> None:
    """~20% of requests faulted (429 +/- Retry-After, 500, 503, latency, drops): the mission
    converges - resumed applies finish what a failed one left - with exactly one object per
    resource. (Which requests are faulted depends on thread timing even with a seed, so the
    test allows up to four applies; the campaign script reports how many it took.)"""
    figure = faultkit.converge_under_faults(tmp_path, seed=7, rate=1.0, max_applies=4)
    assert figure["faulted"] > 5, figure
    assert figure["converged"], figure
    assert figure["duplicated"] == 0 and figure["lost"] == 0, figure


def test_retry_after_is_honoured(shared_serve: rkit.Serve, tmp_path: Path) -> None:
    """A 429 with Retry-After: 1 on the project create: the retry waits at least 1 s (real time:
    Retry-After is the service's clock, not the simulated one)."""
    rules = [
        {
            "provider": "cvat",
            "fault": "status",
            "status": 429,
            "retry_after": 1,
            "match": r"^POST /api/projects$",
            "times": 1,
        }
    ]
    with serving(shared_serve, rules) as serve:
        mission = rkit.mini_mission(
            tmp_path / "m",
            {"cvat": serve.providers()["cvat"]},
            {"defects": {"type": "cvat.Project", "spec": {"name": "A12 defects", "labels": [{"name": "crack"}]}}},
        )
        done = rkit.cli(
            "apply", "--json", "--auto-approve", "--ack-irreversible", str(mission), env=faultkit.fast_env(tmp_path)
        )
        assert done.returncode == 0, done.stderr[-2000:]
        events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        retry = next(e for e in events if e.get("event") == "retry")
        assert retry["retry_after"] == 1
        after = [e for e in events if e.get("address") == "defects" and e.get("ts", 0) > retry["ts"]]
        assert after and after[0]["ts"] - retry["ts"] >= 0.95, (retry, after[:1])
        assert serve.objects()["cvat"]["project"] == 1


def test_stuck_job_is_cancelled_at_its_timeout(shared_serve: rkit.Serve, tmp_path: Path) -> None:
    """A NodeODM task that never finishes is cancelled when `lifecycle.timeout` (1s) passes:
    apply fails naming the timeout, and the node no longer runs the task."""
    rules = [{"provider": "nodeodm", "fault": "job_stuck", "match": ".*"}]
    with serving(shared_serve, rules) as serve:
        mission = rkit.mini_mission(
            tmp_path / "m",
            {"nodeodm": serve.providers()["nodeodm"]},
            {
                "photos": {"type": "local.Files", "spec": {"glob": "data/*.JPG"}},
                "reconstruct": {
                    "type": "nodeodm.Task",
                    "spec": {"name": "stuck", "images": "${{ resources.photos.outputs.paths }}"},
                    "lifecycle": {"timeout": "1s"},
                },
            },
        )
        done = rkit.cli("apply", "--auto-approve", "--ack-irreversible", str(mission), env=faultkit.fast_env(tmp_path))
        assert done.returncode == 1, done.stderr[-2000:]
        assert "timeout" in (done.stdout + done.stderr).lower() or "timed out" in (done.stdout + done.stderr).lower()
        assert "Traceback" not in done.stderr
        tasks = json.loads((serve.dir / "nodeodm.json").read_text())["tasks"]
        statuses = {
            t.get("status", {}).get("code") if isinstance(t.get("status"), dict) else t.get("status")
            for t in tasks.values()
        }
        assert 20 not in statuses and "running" not in statuses, statuses  # 20 = RUNNING in NodeODM


def test_retries_stop_at_lifecycle_retries(shared_serve: rkit.Serve, tmp_path: Path) -> None:
    """A create answered 503 every time: tried 1 + retries (2) times, then the apply fails
    with the service's status in the message."""
    rules = [{"provider": "cvat", "fault": "status", "status": 503, "match": r"^POST /api/projects$"}]
    with serving(shared_serve, rules) as serve:
        mission = rkit.mini_mission(
            tmp_path / "m",
            {"cvat": serve.providers()["cvat"]},
            {
                "defects": {
                    "type": "cvat.Project",
                    "spec": {"name": "A12 defects", "labels": [{"name": "crack"}]},
                    "lifecycle": {"retries": 2},
                }
            },
        )
        done = rkit.cli("apply", "--auto-approve", "--ack-irreversible", str(mission), env=faultkit.fast_env(tmp_path))
        assert done.returncode == 1
        assert "503" in done.stderr + done.stdout
        fired = serve.fired()["cvat"]
        assert sum(fired.values()) == 3, fired
        assert serve.objects()["cvat"]["project"] == 0


def test_sandbox_timeout_runs_on_the_simulated_clock(tmp_path: Path) -> None:
    """lifecycle.timeout is service time: a stuck job with `timeout: 2h` against the sandbox at
    clock 3600 is cancelled after about 2 real seconds (as docs/sandbox.md says), not 2 hours."""
    env = rkit.clean_env(
        SKYFORM_DISABLE_PLUGIN_AUTOLOAD="1",
        SKYFORM_PLUGINS="local,state",
        SKYFORM_PLUGIN_MODULES="fakeprov.plugin",
        SKYFORM_SANDBOX_CLOCK="3600",
        PYTHONPATH=str(rkit.REPO / "tests" / "engine"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    mission = tmp_path / "m"
    mission.mkdir()
    doc = {
        "apiVersion": "skyform/v1",
        "kind": "Mission",
        "metadata": {"name": "sim-timeout"},
        "resources": {
            "job": {
                "type": "fake.Job",
                "spec": {"name": "job", "duration": 36000, "stuck": True},
                "lifecycle": {"timeout": "2h"},
            }
        },
    }
    (mission / "mission.yaml").write_text(json.dumps(doc))
    done = rkit.cli("apply", "--sandbox", "--auto-approve", "--ack-irreversible", str(mission), env=env)
    assert done.returncode == 1, (done.returncode, done.stdout[-1500:], done.stderr[-1500:])
    assert "job: timed out after 2h; the remote job was cancelled" in done.stdout + done.stderr
