"""A new user's first session, as the README tells it, through the `skyform` command.

The session (one fixture, run once per test worker) is a script a newcomer could type: write
a mission with three mistakes, validate once and see all three, fix them, plan, apply in the
sandbox, re-plan, change a parent, rotate a secret, import a project somebody made in CVAT by
hand, lose a record and import it back, and re-plan. The first command is the real `skyform`
executable (a subprocess: the start-up a user meets); the rest run the same CLI in-process
(``skyform.testing.run_cli``, the CLI's own error boundary) against the built-in providers and
their simulators, which costs a fraction of a process start each. The script never stops on a
surprise, it records what each command said. Each test below then checks one promise of the
README against that transcript.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from skyform.testing import run_cli

ROOT = Path(__file__).resolve().parents[2]
FRAMES = ROOT / "specs" / "cvat-basic" / "data" / "frames"
OLD_KEY, NEW_KEY = "k-old-4711", "k-new-0815"

# The README's "A mission", for CVAT: a project with labels, a task with the photos. Three
# mistakes: a misspelt resource key, a reference to a resource that does not exist, and an
# image quality above the documented maximum of 100.
WITH_MISTAKES = textwrap.dedent("""\
    apiVersion: skyform/v1
    kind: Mission
    metadata: {name: a12-survey}
    providers:
      cvat: {url: "https://cvat.example.com", access_token: "${{ secrets.CVAT_TOKEN }}"}
    resources:
      frames:
        type: local.Files
        spec: {glob: "frames/*.png"}
      defects:
        type: cvat.Project
        descriptoin: the defect labels
        spec:
          name: "survey ${{ secrets.PROJECT_KEY }}"
          labels:
            - {name: crack, color: "#ff0000"}
            - {name: corrosion, color: "#ffa500"}
      inspection:
        type: cvat.Task
        spec:
          name: A12 inspection
          project_id: "${{ resources.defect.outputs.id }}"
          images: "${{ resources.frames.outputs.paths }}"
          image_quality: 150
    outputs:
      project: "${{ resources.defects.outputs.id }}"
      task: "${{ resources.inspection.outputs.id }}"
""")

FIXED = (
    WITH_MISTAKES.replace("    descriptoin: the defect labels\n", "    description: the defect labels\n")
    .replace("resources.defect.outputs", "resources.defects.outputs")
    .replace("image_quality: 150", "image_quality: 85")
)
NEW_COLOUR = FIXED.replace('{name: crack, color: "#ff0000"}', '{name: crack, color: "#00ff00"}')
ARCHIVE = """  archive:
    type: cvat.Project
    spec:
      name: A12 archive
      labels:
        - {name: crack, color: "#ff0000"}
"""
WITH_ARCHIVE = NEW_COLOUR.replace("outputs:\n", ARCHIVE + "outputs:\n")


@dataclass
class Said:
    """What one command printed."""

    argv: list[str]
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def __str__(self) -> str:
        return f"$ skyform {' '.join(self.argv)}\nexit {self.code}\n{self.out}{self.err}"


@dataclass
class Session:
    """The transcript of the walk-through, step name -> what the command said."""

    directory: Path
    steps: dict[str, Said] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, step: str) -> Said:
        return self.steps[step]


def _environment(cache: Path, project_key: str) -> dict[str, str | None]:
    """The user's environment, as changes to this one: no other SKYFORM_ variable (None unsets)."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SKYFORM_")}
    env.update(
        {
            "NO_COLOR": "1",
            "XDG_CACHE_HOME": str(cache),
            "XDG_STATE_HOME": str(cache / "state"),
            "SKYFORM_SECRET_PROJECT_KEY": project_key,
        }
    )
    return env


def _make_project_by_hand(directory: Path) -> str:
    """Someone creates a project in CVAT, outside skyform (the sandbox's saved CVAT)."""
    import httpx

    from skyform.sandbox.host import SimulatorHost
    from skyform.sandbox.simulator import SimulatorOptions
    from skyform_cvat.simulator.server import SANDBOX_TOKEN, CvatSimulator

    with SimulatorHost() as host:
        running = host.start(CvatSimulator(SimulatorOptions(state_dir=directory / ".skyform" / "sandbox")))
        made = httpx.post(
            f"{running.base_url}/api/projects",
            headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
            json={"name": "A12 archive", "labels": [{"name": "crack", "color": "#ff0000"}]},
        )
        made.raise_for_status()
        return str(made.json()["id"])


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """Run the whole walk-through once and keep the transcript."""
    base = tmp_path_factory.mktemp("walkthrough")
    directory = base / "a12"
    (directory / "frames").mkdir(parents=True)
    for frame in sorted(FRAMES.glob("*.png"))[:3]:
        shutil.copy(frame, directory / "frames" / frame.name)
    mission = directory / "mission.yaml"
    said = Session(directory)
    key = {"now": OLD_KEY}

    def skyform(step: str, *argv: str) -> Said:
        ran = run_cli(*argv, cwd=directory, env=_environment(base / "cache", key["now"]))
        said.steps[step] = Said(list(argv), ran.exit_code, ran.stdout, ran.stderr)
        return said.steps[step]

    def skyform_executable(step: str, *argv: str) -> Said:
        env = {k: v for k, v in {**os.environ, **_environment(base / "cache", key["now"])}.items() if v is not None}
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "skyform"), *argv],
            cwd=directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        said.steps[step] = Said(list(argv), proc.returncode, proc.stdout, proc.stderr)
        return said.steps[step]

    mission.write_text(WITH_MISTAKES)
    skyform_executable("validate with mistakes", "validate")
    mission.write_text(FIXED)
    skyform("validate fixed", "validate")
    skyform("plan", "plan", "--sandbox")
    skyform("apply", "apply", "--sandbox", "--auto-approve")
    skyform("output task", "output", "task")
    skyform("re-plan", "plan", "--sandbox", "--detailed-exitcode")
    mission.write_text(NEW_COLOUR)
    skyform("plan parent change", "plan", "--sandbox")
    skyform("apply parent change", "apply", "--sandbox", "--auto-approve")
    skyform("output task after parent change", "output", "task")
    key["now"] = NEW_KEY
    skyform("plan rotation", "plan", "--sandbox")
    skyform("plan rotation json", "plan", "--sandbox", "--json")
    skyform("apply rotation", "apply", "--sandbox", "--auto-approve")
    skyform("re-plan after rotation", "plan", "--sandbox", "--detailed-exitcode")
    said.facts["archive id"] = _make_project_by_hand(directory)
    mission.write_text(WITH_ARCHIVE)
    skyform("import", "import", "--sandbox", "archive", said.facts["archive id"])
    skyform("plan after import", "plan", "--sandbox", "--detailed-exitcode")
    skyform("output project", "output", "project")
    skyform("state rm", "state", "rm", ".", "defects")
    skyform("import back", "import", "--sandbox", "defects", said.steps["output project"].out.strip())
    skyform("output project after import back", "output", "project")
    skyform("final re-plan", "plan", "--sandbox", "--detailed-exitcode")
    skyform("history", "history")
    return said


def test_validate_reports_all_three_mistakes_at_once(session: Session) -> None:
    """One `skyform validate` names all three mistakes, each at its file and line (exit 3)."""
    said = session["validate with mistakes"]
    assert said.code == 3, str(said)
    errors = [line for line in said.text.splitlines() if line.startswith("error:")]
    assert len(errors) == 3, str(said)  # in line order, each at its line and column
    assert "mission.yaml:12:5: resources.defects.descriptoin: unknown field 'descriptoin'" in errors[0]
    assert "did you mean 'description'" in errors[0]
    assert "mission.yaml:22:7: resources.inspection.spec.project_id" in errors[1]
    assert "no resource 'defect' in this mission" in errors[1] and "did you mean 'defects'" in said.text
    assert "mission.yaml:24:7: resources.inspection.spec.image_quality" in errors[2]
    assert "image_quality must be at most 100, not 150" in errors[2]
    assert "3 errors found." in said.text
    assert "Traceback" not in said.text


def test_the_fixed_mission_validates(session: Session) -> None:
    said = session["validate fixed"]
    assert said.code == 0 and "Valid. Mission 'a12-survey': 3 resource(s)" in said.out, str(said)


def test_plan_then_apply_in_the_sandbox(session: Session) -> None:
    """The plan says three creates; apply does exactly that and prints the outputs."""
    plan, apply = session["plan"], session["apply"]
    assert plan.code == 0 and "Plan: 3 to create, 0 to update, 0 to replace, 0 to delete." in plan.out, str(plan)
    for line in (
        "+ frames (local.Files) will be created",
        "+ defects (cvat.Project) will be created",
        "+ inspection (cvat.Task) will be created",
    ):
        assert line in plan.out
    assert apply.code == 0, str(apply)
    assert "Apply complete! Resources: 3 created, 0 updated, 0 replaced, 0 deleted." in apply.out
    assert "Outputs:" in apply.out and "  task = " in apply.out
    assert session["output task"].code == 0 and session["output task"].out.strip().isdigit()


def test_applying_again_changes_nothing(session: Session) -> None:
    said = session["re-plan"]
    assert said.code == 0 and "No changes." in said.out, str(said)


def test_changing_a_parent_updates_it_in_place_and_keeps_its_child(session: Session) -> None:
    """A new label colour updates the project in place; the task (and its annotations) stays."""
    plan, apply = session["plan parent change"], session["apply parent change"]
    assert plan.code == 0 and "~ defects (cvat.Project) will be updated in place" in plan.out, str(plan)
    assert "inspection" not in plan.out
    assert "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete." in plan.out
    assert apply.code == 0 and "Resources: 0 created, 1 updated, 0 replaced, 0 deleted." in apply.out, str(apply)
    assert session["output task after parent change"].out == session["output task"].out


def test_rotating_a_secret_never_shows_a_value(session: Session) -> None:
    """After the secret behind the project's name is rotated, no output holds the old or the new
    value (a rotation shows as `(sensitive value changed)` at most), and once applied the
    mission is in sync."""
    rotation = [session[s] for s in ("plan rotation", "plan rotation json", "apply rotation", "re-plan after rotation")]
    assert "~ name: (sensitive value changed)" in session["plan rotation"].out, str(session["plan rotation"])
    assert "inspection" not in session["plan rotation"].out
    for said in rotation:
        assert OLD_KEY not in said.text and NEW_KEY not in said.text, str(said)
        assert "changed outside skyform" not in said.text, str(said)
    assert session["apply rotation"].code == 0, str(session["apply rotation"])
    assert session["re-plan after rotation"].code == 0 and "No changes." in session["re-plan after rotation"].out


def test_import_of_a_project_made_by_hand_plans_no_change(session: Session) -> None:
    """`skyform import archive ID` records the project somebody made in CVAT; the mission that
    describes it as it is then plans no change (never a replace)."""
    imported, plan = session["import"], session["plan after import"]
    assert imported.code == 0, str(imported)
    assert f"Imported {session.facts['archive id']} as archive" in imported.out
    assert "must be replaced" not in plan.out, str(plan)
    assert plan.code == 0 and "No changes." in plan.out, str(plan)


def test_a_lost_record_imported_back_plans_no_change(session: Session) -> None:
    """`skyform state rm` forgets the project (leaving it in CVAT); importing its id back
    restores the same record: the next plan is empty, the project keeps its id."""
    assert session["state rm"].code == 0, str(session["state rm"])
    assert session["import back"].code == 0, str(session["import back"])
    assert session["output project after import back"].out == session["output project"].out


def test_the_session_ends_in_sync_without_a_traceback_or_a_secret(session: Session) -> None:
    """The last plan is clean, and nothing the session printed holds a traceback or the old key."""
    final = session["final re-plan"]
    assert final.code == 0 and "No changes." in final.out, str(final)
    for step, said in session.steps.items():
        assert "Traceback" not in said.text, f"{step}:\n{said}"
        assert OLD_KEY not in said.text and NEW_KEY not in said.text, f"{step}:\n{said}"
    assert "import" in session["history"].out
    for stored in (session.directory / ".skyform").glob("state.db*"):  # with its journal, if any
        assert OLD_KEY.encode() not in stored.read_bytes() and NEW_KEY.encode() not in stored.read_bytes(), stored
