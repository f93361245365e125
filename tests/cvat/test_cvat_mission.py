"""The example mission specs/cvat-basic through the skyform CLI: validate, apply --sandbox, a
no-op re-plan, a changed photo planned as a replace, and destroy with the delete rules."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from skyform.testing import run_cli
from skyform.testing.runner import cli_available

SPEC = Path(__file__).resolve().parents[2] / "specs" / "cvat-basic"
ENV = {"SKYFORM_SANDBOX_CLOCK": "50000"}

pytestmark = pytest.mark.skipif(not cli_available(), reason="the skyform CLI is not available")


@pytest.fixture
def mission(tmp_path: Path) -> Path:
    target = tmp_path / "cvat-basic"
    shutil.copytree(SPEC, target, ignore=shutil.ignore_patterns(".skyform"))
    return target


def test_example_mission_validates() -> None:
    """specs/cvat-basic is a valid mission."""
    result = run_cli("validate", str(SPEC))
    assert result.exit_code == 0, result.output
    assert "8 resource(s)" in result.output


def test_example_mission_applies_in_the_sandbox_and_replans_clean(mission: Path) -> None:
    """apply --sandbox makes project, task, jobs, import and export; a second plan is a no-op."""
    applied = run_cli("apply", "--sandbox", "--auto-approve", str(mission), env=ENV)
    assert applied.exit_code == 0, applied.output
    assert "Apply complete! Resources: 8 created, 0 updated, 0 replaced, 0 deleted." in applied.output
    archive = mission / ".skyform" / "artifacts" / "dataset" / "task-1-coco-1-0.zip"
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        coco = zf.read("annotations/instances_default.json").decode()
    assert "images/a12_005.png" in names and '"corrosion"' in coco
    replan = run_cli("plan", "--sandbox", "--detailed-exitcode", str(mission), env=ENV)
    assert replan.exit_code == 0, replan.output
    objects = run_cli("sandbox", "objects", "--json", str(mission), env=ENV)
    assert objects.json()["objects"]["cvat"] == {"project": 1, "task": 1, "ground_truth_job": 1}


def test_a_changed_photo_replaces_the_task_and_destroy_follows_the_delete_rules(mission: Path) -> None:
    """Edited images are a replace of the task (data is immutable); destroy deletes project, task and
    ground-truth job and only forgets annotation jobs and the import."""
    assert run_cli("apply", "--sandbox", "--auto-approve", str(mission), env=ENV).exit_code == 0
    for extra in range(6, 8):
        Image.new("RGB", (96, 64), (9, 9, 9)).save(mission / "data" / "frames" / f"a12_{extra:03d}.png")
    plan = run_cli("plan", "--sandbox", str(mission), env=ENV)
    assert plan.exit_code == 0, plan.output
    assert "inspection (cvat.Task) must be replaced" in plan.output, plan.output
    destroyed = run_cli("destroy", "--sandbox", "--auto-approve", str(mission), env=ENV)
    assert destroyed.exit_code == 0, destroyed.output
    assert "annotation job 1 stays with its task; only the record is dropped" in destroyed.output
    assert "annotation jobs cannot be deleted (they go with their task)" in destroyed.output
    objects = run_cli("sandbox", "objects", "--json", str(mission), env=ENV)
    assert objects.json()["objects"]["cvat"] == {"project": 0, "task": 0, "ground_truth_job": 0}


def _edit_mission(mission: Path, old: str, new: str) -> None:
    path = mission / "mission.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_validate_points_at_an_inconsistent_frame_selection(mission: Path) -> None:
    """skyform validate reports a method/parameter mismatch at its line, with the kind's message."""
    _edit_mission(mission, "frames_per_job_count: 1", "frame_count: 1")
    result = run_cli("validate", str(mission))
    assert result.exit_code == 3, result.output
    assert "mission.yaml:" in result.output
    assert (
        "resources.validation.spec.frame_count: frame_count does not apply to the random_per_job method; "
        "it takes frames_per_job_count or frames_per_job_share"
    ) in result.output


def test_plan_refuses_an_unknown_assignee_with_a_suggestion(mission: Path) -> None:
    """The assignee is resolved at plan time even before the task exists; a typo fails the plan."""
    _edit_mission(mission, "assignee: alice", "assignee: alcie")
    result = run_cli("plan", "--sandbox", str(mission), env=ENV)
    assert result.exit_code != 0, result.output
    assert "no CVAT user 'alcie'; did you mean 'alice'?" in result.output


FAULTS = [
    {
        "provider": "cvat",
        "fault": "status",
        "status": 503,
        "retry_after": 0,
        "match": "^POST /api/projects$",
        "times": 1,
    },
    {
        "provider": "cvat",
        "fault": "status",
        "status": 429,
        "retry_after": 0,
        "match": r"^POST /api/tasks/\d+/data/$",
        "times": 2,
    },
    {"provider": "cvat", "fault": "status", "status": 500, "match": "^GET /api/requests/", "times": 1},
    {"provider": "cvat", "fault": "status", "status": 503, "retry_after": 0, "match": "^POST /api/jobs$", "times": 1},
]


def test_apply_survives_outages_without_duplicates(mission: Path) -> None:
    """503/429/500 answers on creates, the image upload and polls are retried; nothing is made twice
    (a task whose upload failed is adopted and its images uploaded on the retry)."""
    import json

    env = {**ENV, "SKYFORM_SANDBOX_FAULTS": json.dumps(FAULTS)}
    applied = run_cli("apply", "--sandbox", "--auto-approve", str(mission), env=env)
    assert applied.exit_code == 0, applied.output
    objects = run_cli("sandbox", "objects", "--json", str(mission), env=ENV)
    assert objects.json()["objects"]["cvat"] == {"project": 1, "task": 1, "ground_truth_job": 1}
    replan = run_cli("plan", "--sandbox", "--detailed-exitcode", str(mission), env=ENV)
    assert replan.exit_code == 0, replan.output


def test_a_killed_apply_resumes_without_a_second_task(mission: Path) -> None:
    """kill -9 while the images upload (the task exists, its data does not): the next apply adopts
    the task, uploads the images and finishes with exactly one project and one task."""
    import json
    import os
    import subprocess
    import sys
    import time

    slow_upload = [
        {"provider": "cvat", "fault": "latency", "delay": 30, "match": r"^POST /api/tasks/\d+/data/$", "times": 1}
    ]
    env = {**os.environ, **ENV, "PYTHONUNBUFFERED": "1", "SKYFORM_SANDBOX_FAULTS": json.dumps(slow_upload)}
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
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("inspection: Creating"):
                break
            assert time.monotonic() < deadline, "apply never started creating the task"
        time.sleep(1.0)  # POST /api/tasks is done; the upload hangs in the simulated latency
    finally:
        proc.kill()
        proc.wait(timeout=30)
    resumed = run_cli("apply", "--sandbox", "--auto-approve", str(mission), env=ENV)
    assert resumed.exit_code == 0, resumed.output
    assert "inspection: Ready" in resumed.output and "adopted the object an interrupted run created" in resumed.output
    objects = run_cli("sandbox", "objects", "--json", str(mission), env=ENV)
    assert objects.json()["objects"]["cvat"] == {"project": 1, "task": 1, "ground_truth_job": 1}
    outputs = run_cli("output", "--json", str(mission))
    assert outputs.exit_code == 0, outputs.output


def test_the_token_never_reaches_state_or_output(mission: Path, sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Applied against a server with a token from secrets.*: no file under .skyform and no output line
    holds the token; a refused token is reported without it."""
    from skyform_cvat.provider import PROVIDER
    from skyform_cvat.simulator import SANDBOX_TOKEN

    # not --sandbox, so the kinds poll at a real service's pace (2 s, growing): 6 of this test's
    # 7 s were spent waiting for polls of a simulator that had long finished (20000x clock)
    for kind in PROVIDER.kinds:
        monkeypatch.setattr(type(kind), "poll_interval", min(type(kind).poll_interval, 0.05))
    _edit_mission(mission, '"https://cvat.example.com"', f'"{sandbox.base_url}"')
    env = {**ENV, "SKYFORM_SECRET_CVAT_TOKEN": SANDBOX_TOKEN}
    applied = run_cli("apply", "--auto-approve", str(mission), env=env)
    assert applied.exit_code == 0, applied.output
    assert SANDBOX_TOKEN not in applied.output
    for path in (mission / ".skyform").rglob("*"):
        if path.is_file() and path.suffix != ".zip":
            assert SANDBOX_TOKEN.encode() not in path.read_bytes(), f"token found in {path}"
    refused = run_cli("plan", str(mission), env={**ENV, "SKYFORM_SECRET_CVAT_TOKEN": "not-the-token-42"})
    assert refused.exit_code != 0
    assert "Invalid token." in refused.output and "not-the-token-42" not in refused.output
