"""A saved plan applies what it showed: a CVAT project renamed outside skyform, planned to a
file and applied from it, has its name back - over real HTTP to the CVAT simulator."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from skyform.testing import run_cli

MISSION = """apiVersion: skyform/v1
kind: Mission
metadata: {name: renamed}
providers:
  cvat: {url: "%(url)s", access_token: "${{ secrets.CVAT_TOKEN }}"}
resources:
  defects:
    type: cvat.Project
    spec:
      name: A12 defects
      labels:
        - {name: crack, color: "#ff0000"}
"""


def test_apply_of_a_saved_drift_only_plan_renames_the_project_back(sandbox, tmp_path: Path) -> None:
    mission = sandbox.mission_dir
    mission.mkdir(parents=True, exist_ok=True)
    (mission / "mission.yaml").write_text(MISSION % {"url": sandbox.base_url})
    token = sandbox.settings["access_token"]
    env = {"SKYFORM_SECRET_CVAT_TOKEN": token, "NO_COLOR": "1"}
    applied = run_cli("apply", "--auto-approve", mission, env=env)
    assert applied.exit_code == 0, applied.output
    api = httpx.Client(base_url=sandbox.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    (project,) = api.get("/api/projects").json()["results"]
    assert api.patch(f"/api/projects/{project['id']}", json={"name": "renamed by hand"}).status_code == 200

    plan_file = tmp_path / "drift.plan"
    planned = run_cli("plan", "-o", plan_file, mission, env=env)
    assert planned.exit_code == 0, planned.output
    assert 'name changed outside skyform: recorded "A12 defects", now "renamed by hand"' in planned.output
    saved = json.loads(plan_file.read_text())
    (action,) = saved["actions"]
    assert action["action"] == "update" and "changes" not in action
    assert action["drift"] == [{"path": ["name"], "before": "renamed by hand", "after": "A12 defects"}]

    from_file = run_cli("apply", plan_file, env=env)
    assert from_file.exit_code == 0, from_file.output
    assert api.get(f"/api/projects/{project['id']}").json()["name"] == "A12 defects"
    again = run_cli("plan", "--detailed-exitcode", mission, env=env)
    assert again.exit_code == 0, again.output
    assert "No changes." in again.output
