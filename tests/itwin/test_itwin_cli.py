"""End to end through the skyform CLI: specs/itwin-basic validated, applied, re-planned, refused, destroyed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

runner = pytest.importorskip("skyform.testing.runner")
if not runner.cli_available():  # pragma: no cover - while the engine CLI is being written
    pytest.skip("the skyform CLI is not available", allow_module_level=True)

EXAMPLE = Path(__file__).resolve().parents[2] / "specs" / "itwin-basic"
# in-process runs (the sandbox reads SKYFORM_SANDBOX_CLOCK and _FAULTS when it starts); the
# crash test below is the one that needs a process of its own, to kill it
ENV = {"SKYFORM_SANDBOX_CLOCK": "36000", "SKYFORM_DISABLE_PLUGIN_AUTOLOAD": "1", "SKYFORM_PLUGINS": "state,itwin"}


def skyform(*args):
    return runner.run_cli(*args, env=ENV)


@pytest.fixture
def mission(tmp_path: Path) -> Path:
    target = tmp_path / "itwin-basic"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".skyform"))
    # lifecycle.timeout is service time: at this clock (36000) the example's 12h is 1.2 real
    # seconds, less than a retried request takes; 30d keeps the timeout out of the way
    spec = target / "mission.yaml"
    spec.write_text(spec.read_text().replace("timeout: 12h", "timeout: 30d"))
    return target


def _sim_jobs(mission: Path) -> list[dict]:
    return list(json.loads((mission / ".skyform" / "sandbox" / "itwin.json").read_text())["jobs"].values())


def test_example_validates(mission):
    result = skyform("validate", str(mission))
    assert result.exit_code == 0, result.output


def test_example_applies_in_the_sandbox_and_reapplies_as_a_noop(mission):
    """apply --sandbox runs workspace then job to success; a second plan has nothing to do."""
    first = skyform("apply", "--sandbox", "--auto-approve", str(mission))
    assert first.exit_code == 0, first.output
    assert "cost estimate: 2.50 units" in first.output
    assert "Apply complete!" in first.output
    assert re.search(r'tiles = "[0-9a-f-]{36}"', first.output), first.output
    second = skyform("plan", "--sandbox", "--detailed-exitcode", str(mission))
    assert second.exit_code == 0, second.output
    jobs = _sim_jobs(mission)
    assert len(jobs) == 1 and "_submittedAt" in jobs[0]
    done = skyform("destroy", "--sandbox", "--auto-approve", str(mission))
    assert done.exit_code == 0, done.output
    assert "the API cannot delete a submitted job" in done.output


def test_budget_above_max_cost_stops_before_submission(mission):
    """max_cost below iTwin's estimate: apply fails with the estimate and the job stays unsubmitted."""
    spec = mission / "mission.yaml"
    spec.write_text(spec.read_text().replace("max_cost: 10", "max_cost: 1"))
    result = skyform("apply", "--sandbox", "--auto-approve", str(mission))
    assert result.exit_code != 0, result.output
    assert "at 2.50 units, above lifecycle.max_cost (1.00); the job was created but NOT submitted" in result.output
    jobs = _sim_jobs(mission)
    assert len(jobs) == 1 and jobs[0]["state"] == "unsubmitted" and "_submittedAt" not in jobs[0]


def test_invalid_enum_is_reported_at_its_line(mission):
    spec = mission / "mission.yaml"
    spec.write_text(spec.read_text().replace("quality: Medium\n", "quality: Ultra\n", 1))
    result = skyform("validate", str(mission))
    assert result.exit_code == 3, result.output
    assert (
        "resources.mesh.spec.settings.quality: quality must be one of 'Draft', 'Medium', 'Extra', not 'Ultra'"
        in result.output
    )
    lines = spec.read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "quality: Ultra" in text)
    column = lines[line - 1].index("quality") + 1
    assert f"mission.yaml:{line}:{column}: resources.mesh.spec.settings.quality" in result.output


def test_a_stuck_job_is_cancelled_when_its_timeout_passes(mission):
    """lifecycle.timeout: the engine calls cancel, which PATCHes the job to cancelled."""
    spec = mission / "mission.yaml"
    spec.write_text(spec.read_text().replace("timeout: 30d", "timeout: 2h"))
    faults = json.dumps([{"fault": "job_stuck", "match": "Job Bridge A12 mesh"}])
    result = runner.run_cli(
        "apply",
        "--sandbox",
        "--auto-approve",
        str(mission),
        env={**ENV, "SKYFORM_SANDBOX_FAULTS": faults},
    )
    assert result.exit_code != 0, result.output
    assert "mesh: timed out after 2h; the remote job was cancelled" in result.output
    jobs = _sim_jobs(mission)
    assert len(jobs) == 1 and "_cancelledAt" in jobs[0]


def test_429_on_submit_is_retried_without_a_second_job(mission):
    """A 429 (Retry-After 1) on the submit PATCH: the engine retries, the job is found again, not re-made."""
    faults = json.dumps(
        [{"fault": "status", "status": 429, "retry_after": 1, "times": 1, "match": "PATCH /contextcapture/jobs/"}]
    )
    result = runner.run_cli(
        "apply",
        "--sandbox",
        "--auto-approve",
        str(mission),
        env={**ENV, "SKYFORM_SANDBOX_FAULTS": faults},
    )
    assert result.exit_code == 0, result.output
    jobs = _sim_jobs(mission)
    assert len(jobs) == 1 and "_submittedAt" in jobs[0]


def test_a_crash_after_the_job_was_created_is_adopted_on_the_next_apply(mission):
    """The apply process dies between POST /jobs and the submit; the next apply adopts that job."""
    faults = json.dumps([{"fault": "latency", "delay": 30, "match": "PATCH /contextcapture/jobs/"}])
    sim_state = mission / ".skyform" / "sandbox" / "itwin.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from skyform.cli.main import main; main()",
            "apply",
            "--sandbox",
            "--auto-approve",
            str(mission),
        ],
        env={**os.environ, **ENV, "SKYFORM_SANDBOX_FAULTS": faults},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not (sim_state.exists() and json.loads(sim_state.read_text() or "{}").get("jobs")):
            assert time.monotonic() < deadline, "the job was never created"
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()
    result = skyform("apply", "--sandbox", "--auto-approve", str(mission))
    assert result.exit_code == 0, result.output
    assert "adopted the object an interrupted run created" in result.output
    jobs = _sim_jobs(mission)
    assert len(jobs) == 1 and "_submittedAt" in jobs[0]


def test_plan_flags_an_estimate_above_max_cost_before_apply(mission):
    """iTwin's pre-estimate (2.50 units) above max_cost 1: plan marks the job's line and says
    so in the summary, and `plan --detailed-exitcode` exits 8 (not 2); nothing is created."""
    spec = mission / "mission.yaml"
    spec.write_text(spec.read_text().replace("max_cost: 10", "max_cost: 1"))
    result = skyform("plan", "--sandbox", str(mission))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("+ mesh (itwin.Job)"))
    marked = next(line for line in lines[head:] if "over budget" in line)
    assert marked == (
        "    ! over budget: estimate 2.50 units is above lifecycle.max_cost 1.00; a pre-estimate: "
        "apply checks the service's own figure and does not submit above the ceiling"
    ), result.output
    assert "Over budget: 1 estimate above its ceiling (mesh)." in result.output
    detailed = skyform("plan", "--sandbox", "--detailed-exitcode", str(mission))
    assert detailed.exit_code == 8, detailed.output
    as_json = skyform("plan", "--sandbox", "--json", str(mission))
    plan = next(e for e in map(json.loads, as_json.output.splitlines()) if e.get("event") == "plan")
    assert plan["budget"] == [
        {
            "address": "mesh",
            "estimate": 2.5,
            "limit": 1.0,
            "currency": "units",
            "ceiling": "lifecycle.max_cost",
            "firm": False,
            "confidence": "pre-estimate",
        }
    ]
    assert not (mission / ".skyform" / "sandbox" / "itwin.json").exists() or _sim_jobs(mission) == []


def test_plan_within_max_cost_keeps_exit_code_2(mission):
    """Under the ceiling (2.50 against max_cost 10): no mark, and --detailed-exitcode stays 2."""
    result = skyform("plan", "--sandbox", "--detailed-exitcode", str(mission))
    assert result.exit_code == 2, result.output
    assert "over budget" not in result.output.lower()
