"""A new user's first session, scripted as the README tells it, against the sandbox.

They write a mission with three mistakes and validate it once: all three come back, each at
its line. They fix them, plan, apply. Then they change the parent (a label's colour): the plan
updates the project alone and the task keeps its id. They rotate the secret the project's name
is made of: the plan says the value changed without showing either value. They lose the
project's record and import it back: the next plan is empty. No secret value appears in any
output or in the state file along the way.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from skyform.state.sqlite import SqliteStateStore
from skyform.testing import run_cli
from skyform.testing.runner import cli_available

DATA = Path(__file__).resolve().parents[2] / "specs" / "cvat-basic" / "data"
ENV = {"SKYFORM_SANDBOX_CLOCK": "50000"}
OLD_SECRET, NEW_SECRET = "north-7731-q", "south-1188-z"

MISSION = """\
apiVersion: skyform/v1
kind: Mission
metadata:
  name: first-mission
providers:
  cvat:
    url: "https://cvat.example.com"
    access_token: "${{ secrets.CVAT_TOKEN }}"
resources:
  frames:
    type: local.Files
    spec:
      glob: "data/frames/*.png"
  defects:
    type: cvat.Project
    descriptoin: the defect classes
    spec:
      name: "A12 defects ${{ secrets.SITE_CODE }}"
      labels:
        - {name: crack, color: "#ff0000"}
        - {name: spalling}
  inspection:
    type: cvat.Task
    spec:
      name: A12 inspection
      project_id: "${{ resources.defect.outputs.id }}"
      images: "${{ resources.frames.outputs.paths }}"
      segment_size: 3
      image_quality: 150
"""

pytestmark = pytest.mark.skipif(not cli_available(), reason="the skyform CLI is not available")


class Session:
    """The user's terminal: every command's output is kept, to check no secret ever showed."""

    def __init__(self, root: Path) -> None:
        self.mission = root / "first-mission"
        self.secrets = root / "secrets.yaml"
        self.seen: list[str] = []

    def run(self, *args: str, secrets: bool = False) -> Any:
        """``skyform ARGS``, the mission directory where ``MISSION`` stands (else last)."""
        words = [str(self.mission) if a == "MISSION" else a for a in args]
        if "MISSION" not in args:
            words.append(str(self.mission))
        if secrets:
            words[1:1] = ["--secrets-file", str(self.secrets)]
        ran = run_cli(*words, env=ENV)
        self.seen.append(ran.output)
        return ran

    def edit(self, old: str, new: str) -> None:
        path = self.mission / "mission.yaml"
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new, 1))

    def plan(self) -> dict[str, dict[str, Any]]:
        ran = self.run("plan", "--sandbox", "--json", secrets=True)
        assert ran.exit_code == 0, ran.output
        (line,) = [json.loads(x) for x in ran.output.splitlines() if '"event": "plan"' in x]
        return {a["address"]: a for a in line["actions"]}

    def remote_ids(self) -> dict[str, str | None]:
        store = SqliteStateStore(self.mission / ".skyform" / "state.db")
        try:
            return {a: r.remote_id for a, r in store.resources("first-mission").items()}
        finally:
            store.close()


def test_a_first_session_reads_like_the_readme(tmp_path: Path) -> None:
    user = Session(tmp_path)
    user.mission.mkdir()
    shutil.copytree(DATA, user.mission / "data")
    (user.mission / "mission.yaml").write_text(MISSION)
    user.secrets.write_text(f"SITE_CODE: {OLD_SECRET}\n")

    # 1. validate once: every mistake, each at its line, in line order
    checked = user.run("validate")
    assert checked.exit_code == 3, checked.output
    lines = [line for line in checked.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 3, checked.output
    assert "mission.yaml:16:5: resources.defects.descriptoin: unknown field 'descriptoin'" in lines[0]
    assert "did you mean 'description'?" in lines[0]
    assert "mission.yaml:26:7: resources.inspection.spec.project_id" in lines[1]
    assert "no resource 'defect' in this mission" in lines[1]
    assert "did you mean 'defects'?" in checked.output
    assert (
        "mission.yaml:29:7: resources.inspection.spec.image_quality: image_quality must be at most 100, not 150"
    ) in lines[2]

    # 2. fix all three; validate, plan, apply
    user.edit("descriptoin:", "description:")
    user.edit("resources.defect.outputs", "resources.defects.outputs")
    user.edit("image_quality: 150", "image_quality: 85")
    assert user.run("validate").exit_code == 0
    assert {a: x["action"] for a, x in user.plan().items()} == {
        "frames": "create",
        "defects": "create",
        "inspection": "create",
    }
    applied = user.run("apply", "--sandbox", "--auto-approve", secrets=True)
    assert applied.exit_code == 0, applied.output
    assert "Apply complete! Resources: 3 created, 0 updated, 0 replaced, 0 deleted." in applied.output
    first = user.remote_ids()

    # 3. change the parent in place: the task is not touched
    user.edit('color: "#ff0000"', 'color: "#00aa00"')
    actions = user.plan()
    assert (actions["defects"]["action"], actions["inspection"]["action"]) == ("update", "noop")
    assert user.run("apply", "--sandbox", "--auto-approve", secrets=True).exit_code == 0
    assert user.remote_ids() == first

    # 4. rotate the secret the project's name is made of: a change, shown without its values
    user.secrets.write_text(f"SITE_CODE: {NEW_SECRET}\n")
    shown = user.run("plan", "--sandbox", secrets=True)
    assert shown.exit_code == 0, shown.output
    assert "~ name: (sensitive value changed)" in shown.output
    actions = user.plan()
    assert (actions["defects"]["action"], actions["inspection"]["action"]) == ("update", "noop")
    assert user.run("apply", "--sandbox", "--auto-approve", secrets=True).exit_code == 0
    assert user.remote_ids() == first

    # 5. the project's record is lost; import it back: nothing to do
    assert user.run("state", "rm", "MISSION", "defects").exit_code == 0
    imported = user.run("import", "--sandbox", "MISSION", "defects", str(first["defects"]), secrets=True)
    assert imported.exit_code == 0, imported.output
    replan = user.run("plan", "--sandbox", "--detailed-exitcode", secrets=True)
    assert replan.exit_code == 0, replan.output
    assert "No changes." in replan.output
    assert user.remote_ids() == first

    # never a secret value, old or new, in what the user saw or in the state file
    for secret in (OLD_SECRET, NEW_SECRET):
        assert not [out for out in user.seen if secret in out]
        assert secret.encode() not in (user.mission / ".skyform" / "state.db").read_bytes()
