"""The example missions in specs/dronebundle-*: they validate through the engine, a broken
one is reported at the field's line, and (once the CLI runs) `skyform apply --sandbox`
creates them and a second plan has nothing to do."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

import skyform_dronebundle.plugin as dronebundle_plugin
from skyform.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "specs").glob("dronebundle-*") if p.is_dir())


@pytest.fixture(scope="module")
def registry():
    from skyform.providers.host import build_plugin_manager, load_registry

    return load_registry(build_plugin_manager([dronebundle_plugin], autoload=False))


def test_there_are_basic_and_recurring_examples() -> None:
    """specs/ holds the basic mission and the three documented recurring examples."""
    assert {p.name for p in EXAMPLES} >= {"dronebundle-basic", "dronebundle-recurring"}


@pytest.mark.parametrize("mission_dir", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_missions_validate(mission_dir: Path, registry, tmp_path: Path) -> None:
    """Each example validates through the engine (schema, checks, expressions, graph)."""
    from skyform import api

    copy = tmp_path / mission_dir.name
    shutil.copytree(mission_dir, copy, ignore=shutil.ignore_patterns(".skyform"))
    mission, warnings = api.load(copy, registry, today=date(2026, 11, 23))
    assert [w for w in warnings if w.severity == "error"] == []
    assert all(r.type.startswith("dronebundle.") for r in mission.resources.values())


def test_recurring_example_holds_the_three_documented_patterns() -> None:
    """Every weekday, every 2 weeks, monthly on the first and third week."""
    text = (ROOT / "specs" / "dronebundle-recurring" / "mission.yaml").read_text()
    assert "selected_days_of_week: [1, 2, 3, 4, 5]" in text
    assert "recurring_interval: 2" in text
    assert "weeks_of_month: [1, 3]" in text


def test_a_broken_job_is_reported_at_its_lines(registry, tmp_path: Path) -> None:
    """The engine points each dronebundle problem at file:line of the field."""
    from skyform import api

    (tmp_path / "m.yaml").write_text(
        "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: bad}\n"
        "providers:\n  dronebundle: {api_key: v1_x}\n"
        "resources:\n  j:\n    type: dronebundle.Job\n    spec:\n"
        "      project_id: P\n      name: deck\n      type: drone_inspection\n"
        "      job_pattern: one_time\n      start_date: '2026-12-01'\n"
        "      end_date: '2026-11-30'\n"  # line 15
        "      longitude: 12.5\n"  # line 16
        "      status: other\n"
    )  # line 17
    with pytest.raises(SpecError) as caught:
        api.load(tmp_path, registry, today=date(2026, 11, 23))
    found = {(d.location.line if d.location else None, d.message) for d in caught.value.diagnostics}
    assert found == {
        (15, "end_date must be on or after start_date"),
        (16, "latitude and longitude must be provided together"),
        (17, 'other_status_reason is required when status is "other"'),
    }


def _cli(*args: str, cwd: Path) -> SimpleNamespace:
    """``skyform ARGS`` in-process (click runner) with only this provider and the state backends."""
    from skyform.testing.runner import run_cli
    from skyform_dronebundle.provider import PROVIDER

    done = run_cli(
        *args,
        providers=[PROVIDER],
        cwd=cwd,
        env={"SKYFORM_SANDBOX_CLOCK": "1000", "NO_COLOR": "1", "SKYFORM_PLUGINS": "state"},
    )
    return SimpleNamespace(returncode=done.exit_code, stdout=done.stdout, stderr=done.stderr)


def _cli_ready(tmp_path: Path) -> bool:
    probe = _cli("apply", "--help", cwd=tmp_path)
    return probe.returncode == 0 and "--sandbox" in probe.stdout


@pytest.mark.parametrize("name, jobs", [("dronebundle-basic", 2), ("dronebundle-recurring", 3)])
def test_apply_sandbox_creates_the_mission_and_replans_clean(name: str, jobs: int, tmp_path: Path) -> None:
    """`skyform apply --sandbox` creates the project and jobs; a second plan shows no changes."""
    if not _cli_ready(tmp_path):
        pytest.skip("the engine CLI has no working `apply --sandbox` yet")
    mission = tmp_path / name
    shutil.copytree(ROOT / "specs" / name, mission, ignore=shutil.ignore_patterns(".skyform"))
    applied = _cli("apply", "--sandbox", "--auto-approve", str(mission), cwd=tmp_path)
    if applied.returncode == 70:  # ExitCode.INTERNAL: the engine itself crashed (it is being written)
        pytest.skip("the engine CLI crashed: " + applied.stderr.strip().splitlines()[-2:][0])
    assert applied.returncode == 0, applied.stdout + applied.stderr
    replan = _cli("plan", "--sandbox", "--detailed-exitcode", str(mission), cwd=tmp_path)
    assert replan.returncode == 0, replan.stdout + replan.stderr
    objects = _cli("sandbox", "objects", "--json", str(mission), cwd=tmp_path)
    counts = json.loads(objects.stdout)["objects"]["dronebundle"]
    assert counts == {"project": 1, "job": jobs}


def _applied_copy(name: str, tmp_path: Path) -> Path:
    if not _cli_ready(tmp_path):
        pytest.skip("the engine CLI has no working `apply --sandbox` yet")
    mission = tmp_path / name
    shutil.copytree(ROOT / "specs" / name, mission, ignore=shutil.ignore_patterns(".skyform"))
    applied = _cli("apply", "--sandbox", "--auto-approve", str(mission), cwd=tmp_path)
    if applied.returncode == 70:
        pytest.skip("the engine CLI crashed")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    return mission


def _state_json(mission: Path, address: str, cwd: Path) -> dict:
    shown = _cli("state", "show", str(mission), address, cwd=cwd)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    return json.loads(shown.stdout)


def test_import_takes_back_a_job_whose_state_was_lost(tmp_path: Path) -> None:
    """After `state rm`, `skyform import <address> <project id>/<job id>` records the job again
    and the next plan has nothing to do (no second job)."""
    mission = _applied_copy("dronebundle-basic", tmp_path)
    state = _state_json(mission, "thermal_scan", tmp_path)
    project_id, job_id = state["private"]["project_id"], state["remote_id"]
    assert _cli("state", "rm", str(mission), "thermal_scan", cwd=tmp_path).returncode == 0
    imported = _cli("import", "--sandbox", str(mission), "thermal_scan", f"{project_id}/{job_id}", cwd=tmp_path)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    replan = _cli("plan", "--sandbox", "--detailed-exitcode", str(mission), cwd=tmp_path)
    assert replan.returncode == 0, replan.stdout + replan.stderr


def test_changing_a_recurring_field_plans_an_update_that_regenerates(tmp_path: Path) -> None:
    """Editing recurring_interval in the spec plans an in-place update noting the regeneration."""
    mission = _applied_copy("dronebundle-recurring", tmp_path)
    spec = mission / "mission.yaml"
    spec.write_text(spec.read_text().replace("recurring_interval: 2", "recurring_interval: 3"))
    plan = _cli("plan", "--sandbox", str(mission), cwd=tmp_path)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "every_2_weeks" in plan.stdout and "occurrences will be regenerated" in plan.stdout
    assert "1 to update" in plan.stdout


def test_destroy_needs_forget_because_the_api_documents_no_delete(tmp_path: Path) -> None:
    """destroy without --forget is refused with the delete note; with --forget state is dropped."""
    mission = _applied_copy("dronebundle-basic", tmp_path)
    refused = _cli("destroy", "--sandbox", "--auto-approve", str(mission), cwd=tmp_path)
    assert refused.returncode != 0
    assert "documents no job delete" in refused.stdout + refused.stderr
    forgotten = _cli("destroy", "--sandbox", "--auto-approve", "--forget", str(mission), cwd=tmp_path)
    assert forgotten.returncode == 0, forgotten.stdout + forgotten.stderr


CRASH_MISSION = """apiVersion: skyform/v1
kind: Mission
metadata: {name: crash-test}
providers:
  dronebundle: {api_key: "${{ secrets.DRONEBUNDLE_API_KEY }}"}
resources:
  flight:
    type: dronebundle.Job
    spec:
      project_id: "01900000-0000-7000-8000-000000000001"
      name: Crash test flight
      type: drone_inspection
      job_pattern: one_time
      start_date: "2027-03-01"
"""


def test_killed_between_post_and_state_write_the_next_apply_reports_a_possible_orphan(tmp_path: Path) -> None:
    """apply is killed after the job's POST landed but before its id was recorded; the next apply
    creates nothing and fails that resource with 'possible orphan' naming the job's external_id."""
    import time

    if not _cli_ready(tmp_path):
        pytest.skip("the engine CLI has no working `apply --sandbox` yet")
    mission = tmp_path / "crash"
    mission.mkdir()
    (mission / "mission.yaml").write_text(CRASH_MISSION)
    sim_state = mission / ".skyform" / "sandbox" / "dronebundle.json"
    # the GET that follows the POST hangs, so the process is killed between POST and state write
    faults = json.dumps(
        [{"provider": "dronebundle", "fault": "latency", "delay": 30, "match": "^GET /v1/projects/[^/]+/jobs/"}]
    )
    env = {
        **os.environ,
        "SKYFORM_DISABLE_PLUGIN_AUTOLOAD": "1",
        "SKYFORM_PLUGINS": "dronebundle,state",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")]),
        "SKYFORM_SANDBOX_FAULTS": faults,
        "NO_COLOR": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "skyform.cli.main", "apply", "--sandbox", "--auto-approve", str(mission)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        jobs: dict = {}
        while time.monotonic() < deadline and not jobs:
            time.sleep(0.1)
            if sim_state.exists():
                try:
                    jobs = json.loads(sim_state.read_text()).get("jobs", {})
                except ValueError:
                    continue  # being replaced
        assert jobs, "the POST never reached the simulator"
    finally:
        process.kill()
        process.communicate(timeout=30)
    (job,) = jobs.values()
    again = _cli("apply", "--sandbox", "--auto-approve", str(mission), cwd=tmp_path)
    output = again.stdout + again.stderr
    assert again.returncode == 1, output
    assert f"possible orphan: a job may have been created with external_id={job['external_id']}" in output
    assert len(json.loads(sim_state.read_text())["jobs"]) == 1  # nothing created twice
    # the recovery the message names: import the job found on the dashboard; then nothing to do
    imported = _cli("import", "--sandbox", str(mission), "flight", f"{job['project_id']}/{job['id']}", cwd=tmp_path)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    replan = _cli("plan", "--sandbox", "--detailed-exitcode", str(mission), cwd=tmp_path)
    assert replan.returncode == 0, replan.stdout + replan.stderr


def test_a_429_during_apply_is_retried_and_the_job_is_created_once(tmp_path: Path) -> None:
    """The simulator rejects the first two job POSTs with 429 + Retry-After; the engine retries
    (RateLimited is transient) and apply finishes with exactly one job."""
    from skyform.testing.runner import run_cli
    from skyform_dronebundle.provider import PROVIDER

    if not _cli_ready(tmp_path):
        pytest.skip("the engine CLI has no working `apply --sandbox` yet")
    mission = tmp_path / "limited"
    mission.mkdir()
    (mission / "mission.yaml").write_text(CRASH_MISSION)
    faults = json.dumps(
        [
            {
                "provider": "dronebundle",
                "fault": "status",
                "status": 429,
                "retry_after": 1,
                "times": 2,
                "match": "^POST /v1/projects/[^/]+/jobs$",
            }
        ]
    )
    done = run_cli(
        "apply",
        "--sandbox",
        "--auto-approve",
        str(mission),
        providers=[PROVIDER],
        cwd=tmp_path,
        env={"SKYFORM_PLUGINS": "state", "NO_COLOR": "1", "SKYFORM_SANDBOX_FAULTS": faults},
    )
    assert done.exit_code == 0, done.output
    state = json.loads((mission / ".skyform" / "sandbox" / "dronebundle.json").read_text())
    assert len(state["jobs"]) == 1


def test_a_status_changed_on_the_dashboard_is_set_back_by_apply(tmp_path: Path) -> None:
    """status is desired state: a job put on hold outside skyform shows as drift in the plan,
    and apply sets the spec's status again."""
    mission = _applied_copy("dronebundle-basic", tmp_path)
    sim_file = mission / ".skyform" / "sandbox" / "dronebundle.json"
    data = json.loads(sim_file.read_text())
    job_id = _state_json(mission, "deck_inspection", tmp_path)["remote_id"]
    data["jobs"][job_id]["status"] = "on_hold"  # someone on the dashboard
    sim_file.write_text(json.dumps(data))
    plan = _cli("plan", "--sandbox", str(mission), cwd=tmp_path)
    assert "deck_inspection" in plan.stdout and "on_hold" in plan.stdout and "1 to update" in plan.stdout, plan.stdout
    applied = _cli("apply", "--sandbox", "--auto-approve", str(mission), cwd=tmp_path)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert json.loads(sim_file.read_text())["jobs"][job_id]["status"] == "planned"


def test_no_secret_reaches_state_or_output(tmp_path: Path) -> None:
    """The sandbox API key appears neither in the apply output nor in the state database."""
    from skyform_dronebundle.simulator.access import SANDBOX_KEY

    mission = _applied_copy("dronebundle-basic", tmp_path)
    replan = _cli("plan", "--sandbox", str(mission), cwd=tmp_path)
    assert SANDBOX_KEY not in replan.stdout + replan.stderr
    for path in (mission / ".skyform").glob("state.db*"):
        assert SANDBOX_KEY.encode() not in path.read_bytes()


def test_moving_a_job_to_another_project_needs_forget(tmp_path: Path) -> None:
    """A changed project_id replaces the job; the old one cannot be deleted through the API, so
    the plain apply is blocked and `apply --forget` creates the new job and forgets the old."""
    mission = _applied_copy("dronebundle-basic", tmp_path)
    spec = mission / "mission.yaml"
    text = spec.read_text()
    head, tail = text.split("  thermal_scan:", 1)
    tail = tail.replace(
        'project_id: "${{ resources.site.outputs.id }}"', 'project_id: "01900000-0000-7000-8000-000000000001"', 1
    )
    spec.write_text(head + "  thermal_scan:" + tail)
    blocked = _cli("apply", "--sandbox", "--auto-approve", str(mission), cwd=tmp_path)
    assert blocked.returncode != 0 and "documents no job delete" in blocked.stdout + blocked.stderr
    forgotten = _cli("apply", "--sandbox", "--auto-approve", "--forget", str(mission), cwd=tmp_path)
    assert forgotten.returncode == 0, forgotten.stdout + forgotten.stderr
    data = json.loads((mission / ".skyform" / "sandbox" / "dronebundle.json").read_text())
    assert len(data["jobs"]) == 3  # the old job stays on the dashboard
