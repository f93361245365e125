"""The `skyform` command: documented exit codes, JSON output, approval, locks, corrupt state, commands.

Exit codes (README / `skyform --help`): 0 ok, 1 error, 2 changes (plan --detailed-exitcode),
3 invalid mission, 4 plugin error, 5 state error, 6 lock held, 7 plan refused, 64 usage,
130 interrupted (test_interrupts.py).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess

import pytest

GOOD = """
    resources:
      a: {type: fake.Thing, spec: {name: a, value: 1}}
      j: {type: fake.Job, spec: {name: "${{ resources.a.outputs.name }}-job", duration: 60}}
    outputs:
      a_id: "${{ resources.a.outputs.id }}"
      a_value: "${{ resources.a.outputs.value }}"
      pair: "${{ resources.a.outputs.name }}+${{ resources.j.outputs.name }}"
"""


def applied(ws):
    ws.write(GOOD)
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    return ran


def hold_lock(ws, mission="mission"):
    """Take the mission's lock from this (live) test process through the store API."""
    store = ws.store()
    store.acquire_lock(mission, "apply", warn=lambda m: None)
    return store


# -- exit codes -------------------------------------------------------------------------


def _ok(ws):
    ws.write(GOOD)
    return ["validate", ws.path]


def _failed(ws):
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a, create_error: 422}}\n")
    return ["apply", "--sandbox", "--auto-approve", ws.path]


def _changes(ws):
    ws.write(GOOD)
    return ["plan", "--sandbox", "--detailed-exitcode", ws.path]


def _invalid(ws):
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a, even: 1}}\n")
    return ["plan", ws.path]


def _invalid_detailed(ws):
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a, even: 1}}\n")
    return ["plan", "--detailed-exitcode", ws.path]


def _plugin(ws, monkeypatch):
    ws.write(GOOD)
    monkeypatch.setenv("SKYFORM_PLUGIN_MODULES", "fakeprov.plugin,nonexistent_skyform_plugin")
    return ["validate", ws.path]


def _state(ws):
    ws.write(GOOD)
    (ws.path / ".skyform").mkdir()
    (ws.path / ".skyform" / "state.db").write_bytes(b"garbage, not sqlite" * 100)
    return ["plan", "--sandbox", ws.path]


def _locked(ws):
    applied(ws)
    ws.write(GOOD.replace("value: 1", "value: 2"))
    ws.held = hold_lock(ws)
    return ["apply", "--sandbox", "--auto-approve", ws.path]


def _refused(ws):
    applied(ws)
    ws.write(
        GOOD.replace(
            "a: {type: fake.Thing, spec: {name: a, value: 1}}",
            "a: {type: fake.Thing, spec: {name: a, value: 1}, lifecycle: {prevent_destroy: true}}",
        )
    )
    return ["destroy", "--sandbox", "--auto-approve", ws.path]


def _usage(ws):
    return ["frobnicate"]


def _bad_option(ws):
    return ["plan", "--bogus", ws.path]


def _bad_option_value(ws):
    return ["plan", "--parallelism", "0", ws.path]


EXIT_CODES = [
    ("ok", _ok, 0, "Valid."),
    ("apply failure", _failed, 1, "1 resource(s) failed: a:"),
    ("changes present", _changes, 2, "Plan: 2 to create"),
    ("invalid mission", _invalid, 3, "1 is odd"),
    ("invalid mission with --detailed-exitcode is 1", _invalid_detailed, 1, "1 is odd"),
    (
        "plugin fails to import",
        _plugin,
        4,
        "plugin module 'nonexistent_skyform_plugin' (from SKYFORM_PLUGIN_MODULES) failed to load: ModuleNotFoundError",
    ),
    ("corrupt state", _state, 5, "is corrupt or not a SQLite database"),
    ("lock held", _locked, 6, "mission 'mission' is locked by"),
    ("plan refused", _refused, 7, "lifecycle.prevent_destroy forbids this plan"),
    ("unknown command", _usage, 64, "No such command 'frobnicate'"),
    ("unknown option", _bad_option, 64, "No such option '--bogus'"),
    ("option value out of range", _bad_option_value, 64, "--parallelism"),
]


@pytest.mark.parametrize("setup,code,message", [pytest.param(s, c, m, id=i) for i, s, c, m in EXIT_CODES])
def test_documented_exit_codes(ws, monkeypatch, setup, code, message):
    """Each documented exit code, with the message users see and never a traceback."""
    import inspect

    args = setup(ws, monkeypatch) if len(inspect.signature(setup).parameters) == 2 else setup(ws)
    try:
        ran = ws.run(*args).clean()
    finally:
        if hasattr(ws, "held"):
            ws.held.close()
    assert ran.code == code, str(ran)
    assert message in ran.out + ran.err, str(ran)


def test_help_lists_the_exit_codes_and_version_works(ws):
    """`--help` documents the exit codes; `--version` prints the version."""
    ran = ws.run("--help")
    assert ran.code == 0
    text = " ".join(ran.out.split())
    for fragment in (
        "0 ok",
        "2 changes present",
        "3 invalid mission",
        "4 plugin error",
        "5 state error",
        "6 lock held",
        "7 plan refused",
        "64 usage",
        "130 interrupted",
    ):
        assert fragment in text
    ran = ws.run("--version")
    assert ran.code == 0 and ran.out.startswith("skyform, version ")


# -- JSON output --------------------------------------------------------------------------


def test_every_json_output_is_json_lines(ws):
    """plan/apply/destroy/status/history/output/state list with --json print parseable JSON."""
    ws.write(GOOD)
    plan = ws.run("plan", "--sandbox", "--json", ws.path)
    (only,) = plan.json_lines()
    assert only["event"] == "plan" and only["counts"] == {"create": 2}
    ran = ws.run("apply", "--sandbox", "--auto-approve", "--json", ws.path)
    assert ran.code == 0
    kinds = {e["event"] for e in ran.json_lines()}
    assert {"plan", "transition", "summary"} <= kinds
    assert all("ts" in e for e in ran.json_lines() if e["event"] == "transition")
    for args in (["status", "--json"], ["output", "--json"], ["state", "list", "--json"]):
        out = ws.run(*args, ws.path)
        assert out.code == 0
        json.loads(out.out)
    history = ws.run("history", "--json", ws.path)
    assert {e["kind"] for e in history.json_lines()} >= {"apply_started", "transition", "apply_finished"}
    destroy = ws.run("destroy", "--sandbox", "--auto-approve", "--json", ws.path)
    assert destroy.code == 0 and destroy.json_lines()[-1] == {
        "event": "summary",
        "ok": True,
        "done": 2,
        "counts": {"delete": 2},
        "failed": {},
        "skipped": [],
        "detached": [],
    }


# -- approval -------------------------------------------------------------------------------


@pytest.mark.parametrize("command,how", [("apply", "subprocess"), ("destroy", "in-process")])
def test_no_tty_without_auto_approve_refuses(ws, command, how):
    """Without a terminal and without --auto-approve, apply/destroy refuse (exit 7) and say what to do."""
    applied(ws) if command == "destroy" else ws.write(GOOD)
    before = len(ws.remote_objects())
    if how == "subprocess":
        ran = ws.sub(command, "--sandbox", ".", stdin=subprocess.DEVNULL).clean()
    else:  # pytest's stdin is not a terminal either
        ran = ws.run(command, "--sandbox", ws.path).clean()
    assert ran.code == 7, str(ran)
    assert "needs approval, and there is no terminal to ask on" in ran.err
    assert "hint: review the plan, then run again with --auto-approve" in ran.err
    assert len(ws.remote_objects()) == before


def test_nothing_to_do_needs_no_approval(ws):
    """An apply with no changes exits 0 without asking."""
    applied(ws)
    ran = ws.run("apply", "--sandbox", ws.path)
    assert ran.code == 0 and "No changes." in ran.out


# -- locks ----------------------------------------------------------------------------------


def test_held_lock_fails_at_once_naming_the_holder(ws):
    """A second run on a locked mission exits 6 at once, naming user, pid and host, with a hint."""
    import getpass
    import os
    import socket
    import time

    applied(ws)
    ws.write(GOOD.replace("value: 1", "value: 2"))
    store = hold_lock(ws)
    try:
        started = time.monotonic()
        ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path).clean()
        assert time.monotonic() - started < 5
    finally:
        store.close()
    assert ran.code == 6, str(ran)
    assert (
        f"mission 'mission' is locked by {getpass.getuser()} (pid {os.getpid()} on {socket.gethostname()})" in ran.err
    )
    assert "for apply" in ran.err
    assert "skyform force-unlock" in ran.err
    assert next(o for o in ws.remote_objects() if o["name"] == "a")["value"] == 1


@pytest.mark.parametrize("command", ["apply", "destroy"])
def test_a_locked_mission_is_refused_before_anything_is_planned(ws, command):
    """apply and destroy take the lock before they refresh and plan (as Terraform does): a
    second run neither reads the services nor prints a plan made from state that is moving."""
    applied(ws)
    ws.write(GOOD.replace("value: 1", "value: 2"))
    store = hold_lock(ws)
    try:
        ran = ws.run(command, "--sandbox", "--auto-approve", ws.path).clean()
    finally:
        store.close()
    assert ran.code == 6, str(ran)
    assert "is locked by" in ran.err
    assert "~ a" not in ran.out and "Plan:" not in ran.out and "No changes" not in ran.out, ran.out
    assert "stale" not in ran.err


def test_status_shows_the_lock_and_force_unlock_removes_it(ws):
    """`status` names the holder; `force-unlock --yes` removes the lock; apply then works."""
    applied(ws)
    ws.write(GOOD.replace("value: 1", "value: 2"))
    store = hold_lock(ws)
    try:
        status = ws.run("status", ws.path)
        assert "Locked by " in status.out and "for apply" in status.out
        ran = ws.run("force-unlock", "--yes", ws.path)
        assert ran.code == 0 and "Lock removed." in ran.out
        assert ws.run("force-unlock", "--yes", ws.path).out.strip() == "The mission is not locked."
        ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
        assert ran.code == 0, str(ran)
    finally:
        store.close()


def test_force_unlock_without_a_terminal_asks_for_yes(ws):
    """Without a terminal, `force-unlock` (no --yes) refuses clearly instead of looking interrupted."""
    applied(ws)
    store = hold_lock(ws)
    try:
        ran = ws.sub("force-unlock", ".")
    finally:
        store.close()
    assert ran.code in (7, 64), str(ran)
    assert "--yes" in ran.err


def test_lock_of_a_dead_process_is_taken_over_with_a_warning(ws):
    """A lock left by a process that no longer runs on this host is taken over, with a warning."""
    applied(ws)
    ws.write(GOOD.replace("value: 1", "value: 2"))
    dead = subprocess.Popen(["true"])
    dead.wait()
    store = hold_lock(ws)
    store._held.clear()  # forget it: the row now belongs to a dead process
    store.close()
    with sqlite3.connect(ws.path / ".skyform" / "state.db") as db:
        db.execute("UPDATE locks SET pid = ?", (dead.pid,))
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    assert "taking over the lock of mission 'mission'" in ran.out + ran.err
    assert "that process is no longer running" in ran.out + ran.err


# -- state files ---------------------------------------------------------------------------


def _garbage(path):
    path.write_bytes(b"\x13\x37 this is not a database " * 200)


def _sql(path, statement):
    db = sqlite3.connect(path)
    try:
        db.execute(statement)
        db.commit()
    finally:
        db.close()


def _foreign(path):
    _sql(path, "CREATE TABLE photos (id INTEGER)")


def _foreign_wal(path):
    _sql(path, "PRAGMA journal_mode=WAL")
    _sql(path, "CREATE TABLE photos (id INTEGER)")


def _too_new(path):
    _sql(path, "UPDATE skyform_schema SET version = 99")


def _truncated(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


@pytest.mark.parametrize(
    "damage,message",
    [
        (_garbage, "is corrupt or not a SQLite database"),
        (_foreign, "is a SQLite database but not skyform state (it holds tables photos)"),
        (_foreign_wal, "is a SQLite database but not skyform state (it holds tables photos)"),
        (_too_new, "was written by skyform schema v99"),
        (_truncated, "state"),
    ],
    ids=["garbage", "foreign sqlite", "foreign wal sqlite", "newer schema", "truncated"],
)
@pytest.mark.parametrize(
    "command", [["plan", "--sandbox"], ["apply", "--sandbox", "--auto-approve"], ["history"]], ids=lambda c: c[0]
)
def test_bad_state_file_is_exit_5_naming_the_file_and_left_untouched(ws, damage, message, command):
    """An unreadable, foreign, too-new or truncated state file: exit 5, a message naming the file,
    no traceback, and the file is not modified."""
    state = ws.path / ".skyform" / "state.db"
    if damage in (_too_new, _truncated):
        applied(ws)
        _sql(state, "PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        ws.write(GOOD)
        state.parent.mkdir(parents=True, exist_ok=True)
    damage(state)
    assert not (state.parent / "state.db-wal").exists() or damage is _truncated
    (state.parent / "state.db-wal").unlink(missing_ok=True)
    before = state.read_bytes()
    ran = ws.run(*command, ws.path).clean()
    assert ran.code == 5, str(ran)
    assert str(state) in ran.err and message in ran.err, str(ran)
    assert state.read_bytes() == before


def test_state_url_with_unknown_scheme_is_a_state_error(ws):
    """`--state` with an unknown scheme lists the schemes the backends claim (exit 5)."""
    ws.write(GOOD)
    ran = ws.run("plan", "--state", "mongodb://x", ws.path).clean()
    assert ran.code == 5
    assert (
        "state URL 'mongodb://x' has scheme 'mongodb'; known schemes: postgres://, postgresql://, sqlite://" in ran.err
    )


def test_state_option_places_the_sqlite_file(ws, tmp_path):
    """`--state sqlite:////abs/path` keeps state where it says, not in .skyform/."""
    ws.write(GOOD)
    target = tmp_path / "elsewhere.db"
    ran = ws.run("apply", "--sandbox", "--auto-approve", "--state", f"sqlite:///{target}", ws.path)
    assert ran.code == 0, str(ran)
    assert target.exists() and not (ws.path / ".skyform" / "state.db").exists()
    listed = ws.run("state", "list", "--state", f"sqlite:///{target}", ws.path)
    assert "a " in listed.out and "j " in listed.out


# -- inspection commands ---------------------------------------------------------------


def test_providers_json_lists_name_version_distribution_kinds(ws):
    """`providers --json` lists each provider with version, distribution and kinds."""
    ran = ws.run("providers", "--json")
    assert ran.code == 0
    rows = {r["name"]: r for r in json.loads(ran.out)}
    assert set(rows) == {"fake", "local"}
    assert rows["fake"]["version"] == "0.0.1" and rows["fake"]["kinds"] == ["Thing", "Job"]
    assert rows["fake"]["distribution"] == "(SKYFORM_PLUGIN_MODULES)" and rows["fake"]["simulator"] is True
    assert rows["local"]["distribution"] == "skyform"
    text = ws.run("providers")
    assert "fake.Thing, fake.Job  [sandbox]" in text.out


GRAPH = """
    resources:
      photos: {type: fake.Thing, spec: {name: p}}
      job: {type: fake.Job, spec: {name: "${{ resources.photos.outputs.id }}"}}
      notes: {type: fake.Thing, spec: {name: n}, depends_on: [photos, job]}
"""


@pytest.mark.parametrize(
    "fmt,expected",
    [
        (
            "dot",
            'digraph "mission" {\n  rankdir=LR;\n  node [shape=box];\n'
            '  "photos" [label="photos\\nfake.Thing"];\n  "job" [label="job\\nfake.Job"];\n'
            '  "notes" [label="notes\\nfake.Thing"];\n'
            '  "photos" -> "job";\n  "photos" -> "notes";\n  "job" -> "notes";\n}\n',
        ),
        (
            "mermaid",
            'flowchart LR\n  n_photos["photos<br/>fake.Thing"]\n  n_job["job<br/>fake.Job"]\n'
            '  n_notes["notes<br/>fake.Thing"]\n  n_photos --> n_job\n  n_photos --> n_notes\n'
            "  n_job --> n_notes\n",
        ),
    ],
    ids=["dot", "mermaid"],
)
def test_graph_formats(ws, fmt, expected):
    """`graph --format dot|mermaid` print the nodes in dependency order and every edge."""
    ws.write(GRAPH)
    ran = ws.run("graph", "--format", fmt, ws.path)
    assert ran.code == 0, str(ran)
    assert ran.out == expected


def test_graph_json_and_bad_input(ws):
    """`graph --format json` is machine-readable; an invalid mission or format is refused."""
    ws.write(GRAPH)
    data = json.loads(ws.run("graph", "--format", "json", ws.path).out)
    assert [n["id"] for n in data["nodes"]] == ["photos", "job", "notes"]
    assert {(e["from"], e["to"]) for e in data["edges"]} == {("photos", "job"), ("photos", "notes"), ("job", "notes")}
    assert ws.run("graph", "--format", "png", ws.path).clean().code == 64
    ws.write(GRAPH.replace("depends_on: [photos, job]", "depends_on: [photos, job, nope]"))
    ran = ws.run("graph", ws.path).clean()
    assert ran.code == 3 and "no resource 'nope' in this mission" in ran.err


def test_state_list_show_rm(ws):
    """`state list` shows each record, `show` the details (secrets as digests), `rm` forgets one
    without touching the remote object, so the next plan creates it again."""
    applied(ws)
    listed = ws.run("state", "list", ws.path)
    assert [line.split()[:3] for line in listed.out.splitlines()] == [
        ["a", "fake.Thing", "ready"],
        ["j", "fake.Job", "ready"],
    ]
    shown = json.loads(ws.run("state", "show", ws.path, "a").out)
    assert shown["spec"] == {"name": "a", "value": 1} and shown["status"] == "ready"
    assert shown["idempotency_key"] and shown["remote_id"]
    missing = ws.run("state", "show", ws.path, "zz").clean()
    assert missing.code == 64 and "no resource 'zz' in the state of mission" in missing.err
    ran = ws.run("state", "rm", ws.path, "j")
    assert ran.code == 0 and "Removed j from state (the remote object, if any, was left alone)." in ran.out
    assert set(ws.records()) == {"a"}
    assert len(ws.remote_objects()) == 2
    plan = ws.run("plan", "--sandbox", "--json", ws.path)
    acts = {a["address"]: a["action"] for a in plan.json_lines()[0]["actions"]}
    assert acts == {"a": "noop", "j": "create"}
    assert ws.run("state", "rm", ws.path, "j").clean().code == 64


def test_history_records_every_transition(ws):
    """`history` shows the apply's start, each transition and its end, oldest first."""
    applied(ws)
    ran = ws.run("history", ws.path)
    lines = ran.out.splitlines()
    assert "apply_started" in lines[0] and "apply_finished" in lines[-1]
    assert any("a" in line and "creating → ready" in line for line in lines)
    assert any("j" in line and "running → ready" in line for line in lines)
    assert len(ws.run("history", "--limit", "2", ws.path).out.splitlines()) == 2


def test_output_by_name_and_all(ws):
    """`output NAME` prints a string raw and other values as JSON; an unknown name lists the outputs."""
    applied(ws)
    a = next(o for o in ws.remote_objects() if o["name"] == "a")
    assert ws.run("output", ws.path, "a_id").out == a["id"] + "\n"
    assert ws.run("output", ws.path, "a_value").out == "1\n"
    assert ws.run("output", ws.path, "pair").out == "a+a-job\n"
    assert json.loads(ws.run("output", "--json", ws.path).out) == {"a_id": a["id"], "a_value": 1, "pair": "a+a-job"}
    assert "a_id = " in ws.run("output", ws.path).out
    bad = ws.run("output", ws.path, "nope").clean()
    assert bad.code == 64 and "no output 'nope'; outputs: a_id, a_value, pair" in bad.err


def test_import_records_an_existing_remote_object(ws):
    """`import --sandbox DIR ID OBJ` records an object made outside skyform; plan then manages it."""
    import httpx
    from fakeprov.simulator import TOKEN, FakeSimulator

    from skyform.sandbox.host import SimulatorHost
    from skyform.sandbox.simulator import SimulatorOptions

    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a, value: 7}}\n")
    missing = ws.run("import", "--sandbox", ws.path, "a", "no-such-id").clean()
    assert missing.code == 1 and "fake.Thing 'no-such-id' does not exist in the service" in missing.err
    with SimulatorHost() as host:
        running = host.start(FakeSimulator(SimulatorOptions(state_dir=ws.sandbox_file.parent)))
        made = httpx.post(
            f"{running.base_url}/objects",
            json={"kind": "thing", "name": "a", "value": 7},
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).json()
    ran = ws.run("import", "--sandbox", ws.path, "a", made["id"])
    assert ran.code == 0, str(ran)
    assert f"Imported {made['id']} as a" in ran.out
    assert ws.records()["a"].remote_id == made["id"]
    plan = ws.run("plan", "--sandbox", "--json", ws.path).json_lines()[0]
    assert [a["action"] for a in plan["actions"]] != ["create"]
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0
    assert len(ws.remote_objects()) == 1
    unknown = ws.run("import", "--sandbox", ws.path, "zz", made["id"]).clean()
    assert unknown.code == 64 and "no resource 'zz' in the mission" in unknown.err


def test_import_refuses_an_address_already_managed(ws):
    """Importing over a managed address (or a remote id managed elsewhere) is refused; nothing changes."""
    ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a}}\n  b: {type: fake.Thing, spec: {name: b}}\n")
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0
    before = {k: r.remote_id for k, r in ws.records().items()}
    ran = ws.run("import", "--sandbox", ws.path, "a", before["b"]).clean()
    assert ran.code != 0, str(ran)
    assert "already" in ran.err
    assert {k: r.remote_id for k, r in ws.records().items()} == before


def test_sandbox_apply_never_touches_the_real_state(ws, tmp_path):
    """A mission applied for real, then tried in the sandbox (kept apart, or refused), then applied for real
    again: the real service still holds exactly one object and the real state still points at it."""
    from fakeprov.simulator import TOKEN, FakeSimulator

    from skyform.sandbox.host import SimulatorHost
    from skyform.sandbox.simulator import SimulatorOptions

    with SimulatorHost() as host:  # stands in for the real service
        service = FakeSimulator(SimulatorOptions(state_dir=tmp_path / "service"))
        running = host.start(service)
        ws.write(
            f'providers:\n  fake: {{url: "{running.base_url}", token: {TOKEN}}}\n'
            "resources:\n  a: {type: fake.Thing, spec: {name: a}}\n"
        )
        assert ws.run("apply", "--auto-approve", ws.path).code == 0
        real_id = ws.records()["a"].remote_id
        sandboxed = ws.run("apply", "--sandbox", "--auto-approve", ws.path).clean()
        assert sandboxed.code in (0, 7), str(sandboxed)  # kept apart, or refused with a hint
        assert ws.run("apply", "--auto-approve", ws.path).code == 0
        assert list(service.data["objects"]) == [real_id]
        assert ws.records()["a"].remote_id == real_id


def test_lock_held_on_another_host_is_never_taken_over(ws):
    """A lock row from another host is presumed alive (its pid cannot be checked): exit 6 naming that host."""
    applied(ws)
    ws.write(GOOD.replace("value: 1", "value: 2"))
    store = hold_lock(ws)
    store._held.clear()
    store.close()
    with sqlite3.connect(ws.path / ".skyform" / "state.db") as db:
        db.execute("UPDATE locks SET host = 'runner-7', pid = 999999")
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path).clean()
    assert ran.code == 6, str(ran)
    assert "(pid 999999 on runner-7)" in ran.err
    assert ws.run("force-unlock", "--yes", ws.path).code == 0
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0


def test_plan_out_to_an_unwritable_path_is_a_clear_error(ws, tmp_path):
    """`plan -o` into a directory that does not exist: a message naming the path, no traceback."""
    ws.write(GOOD)
    target = tmp_path / "missing" / "p.json"
    ran = ws.run("plan", "--sandbox", "-o", target, ws.path).clean()
    assert ran.code not in (0, 70), str(ran)
    assert str(target) in ran.err
