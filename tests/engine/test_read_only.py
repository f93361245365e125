"""Read-only commands stay read-only; scaffolds do not shadow built-ins; status polls.

Issue 14 item 11: `plugin new` refuses a name a built-in (or installed) plugin claims;
`validate`, `gitops validate`, `graph`, `plan` and the state readers write nothing into the
repository (the parse cache lives in the user's cache directory, the state file is made by
the first write); `plan`, `state list|show`, `output`, `history` and
`status` work on a state file the user may not write, and `apply` then fails naming the
file; `status` after `apply --detach` asks the services how far the jobs have got.

Root may write any file, so when the suite runs as root the read-only commands run as
`nobody` (setpriv) on a copy of the mission that `nobody` may read but not write.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ENGINE_ENV, HERE, Ran, mission_text, skyform_command

JOBS = """
    resources:
      a: {type: fake.Thing, spec: {name: a, value: 1}}
      j: {type: fake.Job, spec: {name: "${{ resources.a.outputs.name }}-job", duration: 1000000}}
    outputs:
      a_value: "${{ resources.a.outputs.value }}"
"""


def test_plugin_new_refuses_a_built_in_provider_name(ws, tmp_path):
    """`plugin new cvat` would be shadowed by the built-in cvat provider: exit 64, nothing written."""
    ran = ws.run("plugin", "new", "cvat", "--dir", tmp_path).clean()
    assert ran.code == 64, str(ran)
    assert "'cvat' is taken: a plugin of that name is built into skyform" in ran.err
    assert "choose another name" in ran.err
    assert not (tmp_path / "skyform-cvat").exists()
    assert ws.run("plugin", "new", "acme", "--dir", tmp_path).code == 0


def test_read_only_commands_write_nothing_into_the_repository(ws):
    """validate, gitops validate, graph, plan, output, state list, history and status of a new
    mission leave a git work tree as it was: no .skyform/ cache, no empty state file, no
    artifact directories; the first apply then creates the state."""
    from skyform.spec.cache import _cache_dir

    ws.write(JOBS)
    subprocess.run(["git", "init", "-q", str(ws.path)], check=True)
    for argv in (
        ["validate", ws.path],
        ["validate", ws.path],
        ["gitops", "validate", ws.path],
        ["graph", "--format", "json", ws.path],
        ["plan", ws.path],
        ["output", "--json", ws.path],
        ["state", "list", ws.path],
        ["history", ws.path],
        ["status", ws.path],
    ):
        ran = ws.run(*argv).clean()
        assert ran.code == 0, str(ran)
    status = subprocess.run(
        ["git", "-C", str(ws.path), "status", "--porcelain", "--ignored"], capture_output=True, text=True, check=True
    ).stdout
    assert status == "?? mission.yaml\n"
    assert sorted(p.name for p in ws.path.iterdir()) == [".git", "mission.yaml"]
    assert any(_cache_dir(ws.path).glob("*.pickle"))  # the cache still works, in the user's cache
    assert ws.run("apply", "--sandbox", "--auto-approve", "--detach", ws.path).code == 0
    assert (ws.path / ".skyform" / "state.db").is_file() and set(ws.records()) == {"a", "j"}


def _reader_copy(applied: Path) -> Path:
    """A copy of the applied mission whose state directory and file the reader may not write
    (the sandbox's own files stay writable: the simulators keep their state there)."""
    base = Path(tempfile.mkdtemp(prefix="skyform-ro-"))
    copy = base / "m"
    shutil.copytree(applied, copy)
    (base / "cache").mkdir()
    for path in [base, *base.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    for path in [copy / ".skyform" / "sandbox", *(copy / ".skyform" / "sandbox").rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    (base / "cache").chmod(0o777)
    (copy / ".skyform" / "state.db").chmod(0o444)
    (copy / ".skyform").chmod(0o555)
    return copy


def _as_reader(ws, copy: Path, *args: str) -> Ran:
    """skyform run by a user who may read but not write the copy's state."""
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    env = {**ws.env, "XDG_CACHE_HOME": str(copy.parent / "cache"), "HOME": str(copy.parent / "cache")}
    proc = subprocess.run(
        prefix + skyform_command(*args),
        env=env,
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return Ran(proc.returncode, proc.stdout, proc.stderr)


READER_JOBS = JOBS.replace("duration: 1000000", "duration: 1")


def _drop_reader_copy(copy: Path) -> None:
    (copy / ".skyform").chmod(0o755)
    shutil.rmtree(copy.parent, ignore_errors=True)


@pytest.fixture
def reader_copy(ws):
    """An applied mission's read-only copy of its own, for a test that changes the mission."""
    ws.write(READER_JOBS)
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    copy = _reader_copy(ws.path)
    yield copy
    _drop_reader_copy(copy)


@pytest.fixture(scope="module")
def shared_reader_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One applied mission's read-only copy for the tests that only read it.

    Each of them asserts the state file is byte for byte as it was, so sharing one apply is
    safe and saves an apply per command (`--dist loadscope` keeps the module on one worker).
    The apply is a subprocess with the engine suite's environment (the function-scoped
    `ws`/`engine_env` fixtures cannot serve a module).
    """
    base = tmp_path_factory.mktemp("read-only")
    mission = base / "m"
    mission.mkdir()
    (mission / "mission.yaml").write_text(mission_text("mission", READER_JOBS))
    skipped = ("SKYFORM_SANDBOX_FAULTS", "SKYFORM_TRACE_HOOKS", "SKYFORM_STATE", "SKYFORM_NO_CACHE")
    env = {k: v for k, v in os.environ.items() if k not in skipped and not k.startswith("SKYFORM_SECRET_")}
    env.update(
        ENGINE_ENV,
        XDG_CACHE_HOME=str(base / "cache"),
        XDG_STATE_HOME=str(base / "state"),
        PYTHONPATH=os.pathsep.join([str(HERE), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]),
    )
    done = subprocess.run(
        skyform_command("apply", "--sandbox", "--auto-approve", str(mission)),
        env=env,
        cwd=mission,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    copy = _reader_copy(mission)
    yield copy
    _drop_reader_copy(copy)


READER_COMMANDS = [
    ["plan", "--sandbox"],
    ["state", "list"],
    ["state", "show", "a"],
    ["output", "a_value"],
    ["history"],
    ["status"],
    ["graph", "--format", "dot"],
]

# One reader process runs every read-only command in turn (through skyform.testing.run_cli,
# each command with its own store and sandbox, as a process of its own would): a process
# start per command cost more than the commands.
READER_SCRIPT = """
import json, sys
from skyform.testing import run_cli
ran = [run_cli(*argv) for argv in json.loads(sys.argv[1])]
print(json.dumps([[r.exit_code, r.stdout, r.stderr] for r in ran]))
"""


@pytest.fixture(scope="module")
def reader_results(shared_reader_copy: Path) -> dict[str, tuple[Ran, bytes, bytes]]:
    """Each read-only command's result as the reader, with the state file before and after."""
    state = shared_reader_copy / ".skyform" / "state.db"
    before = state.read_bytes()
    env = {
        **os.environ,
        **ENGINE_ENV,
        "XDG_CACHE_HOME": str(shared_reader_copy.parent / "cache"),
        "HOME": str(shared_reader_copy.parent / "cache"),
        "PYTHONPATH": os.pathsep.join([str(HERE), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]),
    }
    env = {k: v for k, v in env.items() if not k.startswith("SKYFORM_SECRET_")}
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    proc = subprocess.run(
        [*prefix, sys.executable, "-c", READER_SCRIPT, json.dumps(READER_COMMANDS)],
        env=env,
        cwd=shared_reader_copy,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    after = state.read_bytes()
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        " ".join(argv): (Ran(*result), before, after) for argv, result in zip(READER_COMMANDS, results, strict=True)
    }


@pytest.mark.parametrize("argv", READER_COMMANDS)
def test_read_only_commands_work_on_a_read_only_state(reader_results, argv):
    """A state file the user may not write is still read (it used to exit 5, 'attempt to write a
    readonly database')."""
    ran, before, after = reader_results[" ".join(argv)]
    ran.clean()
    assert ran.code == 0, str(ran)
    assert ran.out.strip()
    assert after == before


def test_apply_on_a_read_only_state_fails_naming_the_file(ws, reader_copy):
    """An apply that must write says which file is read-only (exit 5) and changes nothing."""
    mission = reader_copy / "mission.yaml"
    mission.chmod(0o666)
    mission.write_text(mission.read_text().replace("value: 1", "value: 2"))
    plan = _as_reader(ws, reader_copy, "plan", "--sandbox").clean()
    assert plan.code == 0 and "~ a (fake.Thing) will be updated in place" in plan.out, str(plan)
    ran = _as_reader(ws, reader_copy, "apply", "--sandbox", "--auto-approve").clean()
    assert ran.code == 5, str(ran)
    assert f"state file {reader_copy / '.skyform' / 'state.db'} is read-only" in ran.err
    assert "nothing was changed" in ran.err


def test_status_of_a_detached_apply_polls_the_services(ws):
    """After `apply --detach`, `status` asks the service: a job that finished remotely shows as
    such while state still says running (status writes nothing); `apply` then records it."""
    ws.write(JOBS)
    detached = ws.run("apply", "--sandbox", "--auto-approve", "--detach", ws.path).clean()
    assert detached.code == 0, str(detached)
    assert "1 submitted and still running" in detached.out
    live = json.loads(ws.run("status", "--json", ws.path).out)
    (job,) = [r for r in live["resources"] if r["address"] == "j"]
    assert job["status"] == "running" and job["remote"]["status"] == "running"
    oid = ws.records()["j"].remote_id
    ws.edit_remote(oid, duration=0.001)  # the remote job finishes
    text = ws.run("status", ws.path).clean()
    assert text.code == 0, str(text)
    assert "(service: ready" in text.out and "records the 1 that finished" in text.out
    assert ws.records()["j"].status == "running"  # status is read-only
    recorded = ws.run("status", "--no-poll", ws.path).clean()
    assert "(as recorded; --no-poll)" in recorded.out and "service:" not in recorded.out
    ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ws.records()["j"].status == "ready"
