"""State integrity: a damaged, too-new or full state never loses what was recorded.

With the engine's fake provider (in-process simulators, `--sandbox`): a corrupted, a
truncated and a foreign state file, a state written by a newer skyform, a disk that fills
up during an apply (a 4 MiB tmpfs), and two applies on one mission. Each ends in a clear
error with the documented exit code (5 state, 6 lock), and the previous state is intact.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import rkit

ENGINE_TESTS = rkit.REPO / "tests" / "engine"


def fake_env(root: Path) -> dict[str, str]:
    return rkit.clean_env(
        SKYFORM_DISABLE_PLUGIN_AUTOLOAD="1",
        SKYFORM_PLUGINS="local,state",
        SKYFORM_PLUGIN_MODULES="fakeprov.plugin",
        SKYFORM_RETRY_BASE="0.05",
        SKYFORM_SANDBOX_CLOCK="600",
        PYTHONPATH=str(ENGINE_TESTS),
        XDG_CACHE_HOME=str(root / "cache"),
    )


def fake_mission(path: Path, things: int = 3, job_duration: float | None = None, extra: str = "") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    resources = {f"t{i}": {"type": "fake.Thing", "spec": {"name": f"thing-{i}{extra}"}} for i in range(things)}
    if job_duration is not None:
        resources["job"] = {"type": "fake.Job", "spec": {"name": "job", "duration": job_duration}}
    doc = {
        "apiVersion": "skyform/v1",
        "kind": "Mission",
        "metadata": {"name": "state-integrity"},
        "resources": resources,
    }
    (path / "mission.yaml").write_text(json.dumps(doc, indent=1))
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def applied_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake mission applied once per module (its state and saved sandbox, in .skyform)."""
    root = tmp_path_factory.mktemp("applied")
    mission = fake_mission(root / "m")
    done = rkit.cli("apply", "--sandbox", "--auto-approve", str(mission), env=fake_env(root))
    assert done.returncode == 0, done.stderr
    return mission


@pytest.fixture
def applied(applied_once: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the applied mission for one test to damage."""
    mission = tmp_path / "m"
    shutil.copytree(applied_once, mission)
    return mission, fake_env(tmp_path)


def _clean_state_error(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 5, (done.returncode, done.stderr[-1500:])
    assert "Traceback" not in done.stderr
    assert "state" in done.stderr.lower()


@pytest.mark.parametrize(
    "damage",
    ["overwrite-pages", "truncate", "foreign-file", "zero-length-header", "zero-bytes", "cut-inside-last-page"],
)
def test_damaged_state_is_a_clear_error_and_left_untouched(applied, damage: str) -> None:
    """plan/apply on a damaged state.db: exit 5 naming the state, and the file is not changed."""
    mission, env = applied
    db = mission / ".skyform" / "state.db"
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    data = bytearray(db.read_bytes())
    if damage == "overwrite-pages":
        data[100 : 4096 * 2] = bytes((i * 37) % 251 for i in range(100, 4096 * 2))
    elif damage == "truncate":
        data = data[: len(data) // 3]
    elif damage == "foreign-file":
        data = bytearray(b"PK\x03\x04 this is a zip, not a state database" * 40)
    elif damage == "zero-bytes":  # a full disk, a bad copy: never "no state yet"
        data = bytearray()
    elif damage == "cut-inside-last-page":
        data = data[:-100]
    else:
        data[:16] = b"\x00" * 16
    db.write_bytes(bytes(data))
    before = digest(db)
    for command in (["plan", "--sandbox"], ["apply", "--sandbox", "--auto-approve"]):
        done = rkit.cli(*command, str(mission), env=env)
        _clean_state_error(done)
    assert digest(db) == before


def test_emptied_state_names_the_backup_and_restoring_it_plans_no_change(applied) -> None:
    """apply keeps state.db.backup; a state.db emptied afterwards is exit 5 (not a plan to create
    everything again), the message says how to restore the backup, and after doing just
    that the plan has nothing to do."""
    mission, env = applied
    db = mission / ".skyform" / "state.db"
    backup = mission / ".skyform" / "state.db.backup"
    assert backup.is_file()
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    db.write_bytes(b"")
    done = rkit.cli("plan", "--sandbox", str(mission), env=env)
    _clean_state_error(done)
    assert f"state file {db} is empty (0 bytes)" in done.stderr, done.stderr
    assert f"`cp {backup} {db}`" in done.stderr, done.stderr
    assert db.read_bytes() == b""
    db.write_bytes(backup.read_bytes())  # what the hint says
    again = rkit.cli("plan", "--sandbox", "--detailed-exitcode", str(mission), env=env)
    assert again.returncode == 0, (again.returncode, again.stdout[-1500:], again.stderr[-1500:])
    assert "No changes." in again.stdout


def test_state_from_a_newer_skyform_is_refused_unchanged(applied) -> None:
    """A schema version above ours: exit 5 "upgrade skyform", nothing rewritten or migrated."""
    mission, env = applied
    db = mission / ".skyform" / "state.db"
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO skyform_schema (version) VALUES (999)")
    conn.close()
    before = digest(db)
    for command in (["plan", "--sandbox"], ["apply", "--sandbox", "--auto-approve"], ["state", "list"]):
        done = rkit.cli(*command, str(mission), env=env)
        _clean_state_error(done)
        assert "999" in done.stderr or "newer" in done.stderr.lower(), done.stderr
    assert digest(db) == before


@pytest.fixture
def tiny_disk(tmp_path: Path):
    mount = tmp_path / "tiny"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode()[:200]}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def test_disk_full_during_apply_keeps_the_previous_state(tiny_disk: Path, tmp_path: Path) -> None:
    """The state on a 4 MiB tmpfs, filled up but for 48 KiB before an apply that adds 40
    resources: exit 5 "database or disk is full ... previous state is intact", no traceback;
    with space again, the earlier records are all there and the next apply converges
    without creating anything twice."""
    env = fake_env(tmp_path)
    state = f"sqlite:///{tiny_disk}/state.db"
    mission = fake_mission(tmp_path / "m", things=2)
    done = rkit.cli("apply", "--sandbox", "--auto-approve", "--state", state, str(mission), env=env)
    assert done.returncode == 0, done.stderr
    listed_before = rkit.cli("state", "list", "--state", state, str(mission), env=env).stdout
    filler = tiny_disk / "filler"
    try:  # fill the disk to the last block
        with open(filler, "wb") as fh:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
    except OSError:
        pass
    # leave a little room: the store opens, the first writes land, a later one hits the wall
    os.truncate(filler, max(0, filler.stat().st_size - 48 * 1024))
    fake_mission(mission, things=40, extra="-" + "x" * 40)
    # a subprocess: the lock it could not release on the full disk dies with it, as a real
    # run's does (in this process the holder would still be alive, and the lock honoured)
    done = rkit.run("apply", "--sandbox", "--auto-approve", "--state", state, str(mission), env=env)
    assert done.returncode == 5, (done.returncode, done.stderr[-1500:])
    assert "disk is full" in done.stderr and "previous state is intact" in done.stderr
    assert "Traceback" not in done.stderr
    filler.unlink()
    listed_after = rkit.cli("state", "list", "--state", state, str(mission), env=env)
    assert listed_after.returncode == 0, listed_after.stderr
    for line in listed_before.splitlines():
        assert line.split()[0] in listed_after.stdout
    done = rkit.cli("apply", "--sandbox", "--auto-approve", "--state", state, str(mission), env=env)
    assert done.returncode == 0, done.stderr[-1500:]
    objects = json.loads(rkit.cli("sandbox", "objects", str(mission), "--json", env=env).stdout)["objects"]
    assert sum(objects["fake"].values()) == 40, objects  # the two old things were replaced (name changed)


def test_two_applies_on_one_mission_one_fails_naming_the_holder(tmp_path: Path) -> None:
    """While an apply waits for a job, a second apply exits 6 naming the holder's pid and
    host; it writes nothing, and the first finishes normally.

    The first apply is a subprocess (its own pid holds the lock); the second runs in this
    process. When the machine is so loaded that the first had finished before the second
    ran, the race was lost before the lock could be observed: that attempt is set up again
    with a job ten times longer (the assertions themselves are never retried)."""
    env = fake_env(tmp_path)
    for attempt, duration in enumerate((1800, 18000, 180000)):  # 3 s, 30 s, 300 s at clock 600
        mission = fake_mission(tmp_path / f"m{attempt}", things=1, job_duration=duration)
        first = rkit.popen("apply", "--sandbox", "--auto-approve", "--json", str(mission), env=env)
        for event in rkit.events(first, timeout=60):
            if event.get("event") == "transition" and event.get("after") == "running":
                break
        second = rkit.cli("apply", "--sandbox", "--auto-approve", str(mission), env=env)
        if second.returncode == 0 and "No changes." in second.stdout:
            # the first apply had released the lock (it holds it to its end) before the second
            # started: no lock to meet. It may still be exiting, hence wait rather than poll.
            assert first.wait(timeout=600) == 0
            continue
        break
    assert second.returncode == 6, (second.returncode, second.stdout[-1500:], second.stderr[-1500:])
    assert str(first.pid) in second.stderr and os.uname().nodename in second.stderr, second.stderr
    assert first.wait(timeout=600) == 0
    history = rkit.cli("history", "--json", "--limit", "1000", str(mission), env=env).stdout
    started = [
        json.loads(line)
        for line in history.splitlines()
        if line.startswith("{") and json.loads(line).get("kind") == "apply_started"
    ]
    assert [s["data"]["pid"] for s in started] == [first.pid]
