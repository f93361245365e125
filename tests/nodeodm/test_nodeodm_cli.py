"""End to end through the CLI: the example mission specs/nodeodm-basic applied in the sandbox."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from skyform.testing.runner import cli_available, run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "specs" / "nodeodm-basic"
ENV = {"SKYFORM_SANDBOX_CLOCK": "20000"}

pytestmark = pytest.mark.skipif(not cli_available(), reason="the skyform CLI is not available")


@pytest.fixture
def mission(tmp_path: Path) -> Path:
    """A copy of the example mission (apply writes .skyform/ beside it)."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "nodeodm-basic"))


def skyform(*args: str | Path):
    return run_cli(*args, env=ENV)


def test_example_mission_validates(mission):
    """specs/nodeodm-basic is a valid mission (checked on a copy: validate writes a cache)."""
    result = skyform("validate", mission)
    assert result.exit_code == 0, result.output


def test_apply_sandbox_then_noop_then_restart_on_option_change(mission):
    """apply downloads the products; a re-plan is empty; an option change restarts the same task."""
    first = skyform("apply", "--sandbox", "--auto-approve", mission)
    assert first.exit_code == 0, first.output
    assets = mission / ".skyform" / "artifacts" / "reconstruct" / "assets"
    for product in (
        "odm_orthophoto/odm_orthophoto.tif",
        "odm_dem/dsm.tif",
        "odm_dem/dtm.tif",
        "odm_georeferencing/odm_georeferenced_model.laz",
        "odm_report/report.pdf",
    ):
        assert (assets / product).is_file(), product
    assert f'orthophoto = "{assets}/odm_orthophoto/odm_orthophoto.tif"' in first.output

    again = skyform("plan", "--sandbox", "--detailed-exitcode", mission)
    assert again.exit_code == 0, again.output

    text = (mission / "mission.yaml").read_text().replace("pc-quality: medium", "pc-quality: low")
    (mission / "mission.yaml").write_text(text)
    plan = skyform("plan", "--sandbox", mission)
    assert "reconstruct (nodeodm.Task) will be updated in place" in plan.output
    assert "note: restart on the node with new options; images stay" in plan.output
    changed = skyform("apply", "--sandbox", "--auto-approve", mission)
    assert changed.exit_code == 0, changed.output
    objects = skyform("sandbox", "objects", "--json", mission)
    assert objects.json()["objects"]["nodeodm"] == {"task": 1, "upload": 0}


def test_unknown_option_fails_the_plan_at_its_line_with_did_you_mean(mission):
    """A misspelt option is a plan-time error pointing at the spec line, with a suggestion."""
    text = (mission / "mission.yaml").read_text().replace("auto-boundary: true", "auto-boundry: true")
    (mission / "mission.yaml").write_text(text)
    line = next(i for i, text_line in enumerate(text.splitlines(), 1) if "auto-boundry" in text_line)
    result = skyform("plan", "--sandbox", mission)
    assert result.exit_code != 0
    assert f"mission.yaml:{line}:" in result.output
    assert "resources.reconstruct.spec.options.auto-boundry: unknown NodeODM option 'auto-boundry'" in result.output
    assert "did you mean 'auto-boundary'?" in result.output


def test_new_image_replaces_the_task_and_destroy_keeps_products(mission):
    """Another photo means a new task (replace); destroy removes tasks but keeps downloaded products."""
    assert skyform("apply", "--sandbox", "--auto-approve", mission).exit_code == 0
    shutil.copy(mission / "data/a12/DJI_0001.JPG", mission / "data/a12/DJI_0005.JPG")
    plan = skyform("plan", "--sandbox", mission)
    assert "reconstruct (nodeodm.Task) must be replaced" in plan.output, plan.output
    assert "note: fingerprint, images cannot change on a NodeODM task" in plan.output
    assert skyform("apply", "--sandbox", "--auto-approve", mission).exit_code == 0
    objects = skyform("sandbox", "objects", "--json", mission).json()["objects"]["nodeodm"]
    assert objects == {"task": 1, "upload": 0}
    gone = skyform("destroy", "--sandbox", "--auto-approve", mission)
    assert gone.exit_code == 0, gone.output
    assert skyform("sandbox", "objects", "--json", mission).json()["objects"]["nodeodm"]["task"] == 0
    assert (mission / ".skyform/artifacts/reconstruct/assets/odm_orthophoto/odm_orthophoto.tif").is_file()


def test_photo_edited_in_place_replaces_the_task_through_the_fingerprint(mission):
    """Same file names, new content: the manifest digest (fingerprint) changes, so the task is redone."""
    assert skyform("apply", "--sandbox", "--auto-approve", mission).exit_code == 0
    (mission / "data/a12/DJI_0002.JPG").write_bytes((mission / "data/a12/DJI_0003.JPG").read_bytes())
    plan = skyform("plan", "--sandbox", mission)
    assert "reconstruct (nodeodm.Task) must be replaced" in plan.output, plan.output
    note = next(line for line in plan.output.splitlines() if "note:" in line and "reconstruct" not in line)
    assert "fingerprint" in note and "cannot change on a NodeODM task" in note


def test_timeout_cancels_a_stuck_task_on_the_node(mission):
    """lifecycle.timeout: the engine calls cancel, and the node's task ends CANCELED."""
    text = (mission / "mission.yaml").read_text().replace("timeout: 6h", "timeout: 3s")
    (mission / "mission.yaml").write_text(text)
    env = {**ENV, "SKYFORM_SANDBOX_FAULTS": '[{"provider": "nodeodm", "fault": "job_stuck"}]'}
    result = run_cli("apply", "--sandbox", "--auto-approve", mission, env=env)
    assert result.exit_code != 0
    assert "reconstruct: timed out after 3s; the remote job was cancelled" in result.output
    state = (mission / ".skyform/sandbox/nodeodm.json").read_text()
    assert '"phase": "canceled"' in state


def test_failed_task_shows_the_node_error_and_log_tail(mission):
    """A task failing on the node fails the apply with errorMessage and the last output lines."""
    env = {**ENV, "SKYFORM_SANDBOX_FAULTS": '[{"provider": "nodeodm", "fault": "job_fail", "match": "bridge-a12"}]'}
    result = run_cli("apply", "--sandbox", "--auto-approve", mission, env=env)
    assert result.exit_code != 0
    assert ": Cannot process dataset" in result.output and "last output lines:" in result.output
    assert "[ERROR]   The program could not process this dataset" in result.output


def test_options_changed_on_the_node_show_as_drift_and_are_restarted_back(mission):
    """Someone re-ran the task on the node without dtm: plan shows drift and a restart to the spec."""
    assert skyform("apply", "--sandbox", "--auto-approve", mission).exit_code == 0
    state_file = mission / ".skyform/sandbox/nodeodm.json"  # the simulated node's memory
    data = json.loads(state_file.read_text())
    (task,) = data["tasks"].values()
    task["options"] = [o for o in task["options"] if o["name"] != "dtm"]
    state_file.write_text(json.dumps(data))
    plan = skyform("plan", "--sandbox", mission)
    assert "reconstruct (nodeodm.Task) will be updated in place  # changed outside skyform" in plan.output, plan.output
    assert "note: restart on the node with new options; images stay" in plan.output


def test_validate_points_at_spec_lines(tmp_path):
    """skyform validate reports the kind's checks at file:line:col with the hint."""
    (tmp_path / "photos").mkdir()
    shutil.copy(EXAMPLE / "data/a12/DJI_0001.JPG", tmp_path / "photos")
    (tmp_path / "mission.yaml").write_text("""\
apiVersion: skyform/v1
kind: Mission
metadata: {name: bad-photos}
providers:
  nodeodm: {url: "http://127.0.0.1:3000"}
resources:
  reconstruct:
    type: nodeodm.Task
    spec:
      images:
        - photos/DJI_0001.JPG
        - other/DJI_0001.JPG
      outputs: ["../up"]
""")
    result = skyform("validate", tmp_path)
    assert result.exit_code == 3
    assert (
        "mission.yaml:12:11: resources.reconstruct.spec.images.1: two images are named 'DJI_0001.JPG' "
        "(also images[0]): the node keeps only one file per name [nodeodm.Task]"
    ) in result.output
    assert "hint: rename one of them" in result.output
    assert (
        "mission.yaml:13:17: resources.reconstruct.spec.outputs.0: '../up' leaves the project directory"
        in result.output
    )


def test_apply_killed_between_init_and_commit_resumes_with_the_same_uuid(mission):
    """kill -9 while the commit hangs; the next apply finishes the same upload: one task, same uuid."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {
        **os.environ,
        **ENV,
        "SKYFORM_SANDBOX_FAULTS": json.dumps(
            [{"provider": "nodeodm", "match": "POST /task/new/commit/", "fault": "latency", "delay": 60}]
        ),
    }
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
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    state_file = mission / ".skyform/sandbox/nodeodm.json"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:  # wait until every file of the task is on the node
            uploads = json.loads(state_file.read_text()).get("uploads", {}) if state_file.exists() else {}
            if any(len(u["files"]) == 5 for u in uploads.values()):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the upload never completed")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    (uuid,) = json.loads(state_file.read_text())["uploads"]
    resumed = skyform("apply", "--sandbox", "--auto-approve", mission)
    assert resumed.exit_code == 0, resumed.output
    node = json.loads(state_file.read_text())
    assert list(node["tasks"]) == [uuid] and node["uploads"] == {}


def test_a_log_line_of_an_upload_thread_reaches_its_resources_live_log(mission):
    """The uploads run in threads of their own; the retry line one of them logs (a 503 on one
    file) is in the state's live log under ``reconstruct``, next to the upload's progress.
    Before, the line reached no resource: the thread lacked the call's context."""
    from skyform.state.sqlite import SqliteStateStore

    faults = [{"provider": "nodeodm", "match": "POST /task/new/upload/", "fault": "status", "status": 503, "times": 1}]
    done = run_cli(
        "apply", "--sandbox", "--auto-approve", mission, env={**ENV, "SKYFORM_SANDBOX_FAULTS": json.dumps(faults)}
    )
    assert done.exit_code == 0, done.output
    store = SqliteStateStore(mission / ".skyform" / "state.db")
    try:
        kept = store.live_after("nodeodm-basic", 0, limit=5_000)
    finally:
        store.close()
    retries = [r for r in kept if r.kind == "log" and "retry 1 of" in r.data["message"]]
    assert len(retries) == 1, [(r.kind, r.address, r.data) for r in kept]
    assert retries[0].address == "reconstruct" and retries[0].data["level"] == "info"
    assert retries[0].data["message"].startswith("nodeodm: upload of DJI_") and "503" in retries[0].data["message"]
    uploads = [
        r for r in kept if r.kind == "progress" and r.address == "reconstruct" and "uploaded" in r.data["message"]
    ]
    assert uploads and uploads[-1].data["fraction"] == 1.0
