"""The StateStore contract, run against every backend (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import pytest

from skyform.errors import StateError
from skyform.state import Event, Removal, ResourceState, StateStore


def resource(address: str, status: str = "ready", **kw: object) -> ResourceState:
    return ResourceState(
        address=address,
        type="test.Thing",
        status=status,
        idempotency_key=f"key-{address}",
        intent_at=1700000000.5,
        **kw,
    )  # type: ignore[arg-type]


def test_resource_round_trip_keeps_every_field(store: StateStore) -> None:
    """What is written is read back unchanged, JSON columns included."""
    res = resource(
        "photos",
        remote_id="r-1",
        spec={"glob": "*.JPG", "nested": {"a": [1, 2.5, None, True]}},
        outputs={"count": 3, "paths": ["/a", "/b"]},
        observed={"glob": "*.JPG"},
        private={"etag": "x"},
        depends_on=["flight"],
        error="boom",
        created_at=1700000001.0,
        updated_at=1700000002.0,
    )
    store.write("m", [res])
    assert store.resources("m") == {"photos": res}
    assert store.resources("other") == {}


def test_records_read_back_mutable_and_written_back_unchanged(store: StateStore) -> None:
    """A read record's JSON columns (decoded when first used, issue 16) behave as plain
    attributes: a record written back as read, or with one column changed, reads back so."""
    rows = [
        resource(f"r{i}", spec={"i": i, "s": "x" * i}, outputs={"n": i}, depends_on=[f"r{i - 1}"], created_at=1.0)
        for i in range(5)
    ]
    store.write("m", rows)
    read = store.resources("m")
    assert read == {r.address: dataclasses.replace(r, updated_at=read[r.address].updated_at) for r in rows}
    read["r1"].outputs["n"] = 10  # mutating a decoded column is what the state then holds
    read["r2"].spec = {"changed": True}
    store.write("m", list(read.values()))  # r0, r3, r4 never decoded: written as they were read
    again = store.resources("m")
    assert again["r1"].outputs == {"n": 10} and again["r2"].spec == {"changed": True}
    assert [again[f"r{i}"].spec for i in (0, 3, 4)] == [{"i": 0, "s": ""}, {"i": 3, "s": "xxx"}, {"i": 4, "s": "xxxx"}]
    assert again["r4"].depends_on == ["r3"] and again["r0"].private == {}


def test_mission_fields_round_trip(store: StateStore) -> None:
    """spec_digest, outputs and attributes land on the mission row."""
    store.write("m", mission_update={"spec_digest": "sha256:ab", "outputs": {"o": [1]}, "attributes": {"commit": "c1"}})
    m = store.mission("m")
    assert m is not None and (m.spec_digest, m.outputs, m.attributes) == ("sha256:ab", {"o": [1]}, {"commit": "c1"})
    assert m.updated_at > 0
    assert store.mission("never") is None


def test_serial_bumps_and_lineage_is_stable(store: StateStore) -> None:
    """Every write bumps the serial by one; the lineage is set once per mission."""
    serials = [store.write("m", [resource("a")]) for _ in range(3)]
    assert serials == [1, 2, 3]
    first = store.mission("m")
    store.write("m")
    again = store.mission("m")
    assert first and again and again.serial == 4 and again.lineage == first.lineage and len(first.lineage) == 36


def test_attributes_merge_and_none_removes(store: StateStore) -> None:
    """Attribute updates merge, so gitops and the engine do not erase each other's keys."""
    store.write("m", mission_update={"attributes": {"commit": "c1", "repository": "r"}})
    store.write("m", mission_update={"attributes": {"commit": "c2", "repository": None}})
    assert store.mission("m").attributes == {"commit": "c2"}  # type: ignore[union-attr]


def test_removal_deletes_resource_but_keeps_history(store: StateStore) -> None:
    store.write("m", [resource("a"), resource("b")], [Event(kind="transition", address="a", after="ready")])
    store.write("m", [Removal("a")], [Event(kind="transition", address="a", before="ready", after="deleted")])
    assert list(store.resources("m")) == ["b"]
    assert [e.after for e in store.events("m", address="a")] == ["ready", "deleted"]


def test_upsert_replaces_a_resource(store: StateStore) -> None:
    store.write("m", [resource("a", status="creating")])
    store.write("m", [resource("a", status="ready", remote_id="r-9", outputs={"x": 1})])
    got = store.resources("m")["a"]
    assert (got.status, got.remote_id, got.outputs) == ("ready", "r-9", {"x": 1})


def test_write_is_all_or_nothing(store: StateStore) -> None:
    """A failure in the middle of a write leaves the previous state exactly as it was."""
    store.write("m", [resource("a")], [Event(kind="plan")], mission_update={"outputs": {"v": 1}})
    before = (store.mission("m"), store.resources("m"), store.events("m"))
    unserialisable = resource("c", outputs={"bad": object()})
    with pytest.raises(TypeError):
        store.write(
            "m",
            [resource("b"), Removal("a"), unserialisable],
            [Event(kind="apply_started")],
            mission_update={"outputs": {"v": 2}},
        )
    assert (store.mission("m"), store.resources("m"), store.events("m")) == before
    assert store.write("m") == 2  # and the store still works


def test_first_write_failing_creates_no_mission(store: StateStore) -> None:
    with pytest.raises(ValueError):
        store.write("m", [resource("a", spec={"n": float("nan")})])
    assert store.mission("m") is None and store.missions() == []


def test_events_are_ordered_filtered_and_limited(store: StateStore) -> None:
    for i in range(5):
        store.write("m", events=[Event(kind="step", address=f"r{i % 2}", data={"i": i})])
    store.write("other", events=[Event(kind="step", data={"i": 99})])
    events = store.events("m")
    assert [e.data["i"] for e in events] == [0, 1, 2, 3, 4]
    assert [e.seq for e in events] == sorted(e.seq for e in events) and len({e.seq for e in events}) == 5
    assert [e.data["i"] for e in store.events("m", limit=2)] == [3, 4]
    assert [e.data["i"] for e in store.events("m", address="r1")] == [1, 3]
    assert all(e.at > 0 for e in events)


def test_events_after_an_id_and_statuses_answer_what_the_full_reads_do(store: StateStore) -> None:
    """The two light reads a live page makes agree with events() and resources()."""
    for i in range(5):
        store.write("m", [resource(f"r{i}", "running" if i % 2 else "ready")], [Event(kind="step", data={"i": i})])
    store.write("other", [resource("x")], [Event(kind="step", data={"i": 99})])
    events = store.events("m")
    assert store.events_after("m", 0) == events
    assert store.events_after("m", events[1].seq) == events[2:]
    assert store.events_after("m", events[1].seq, limit=2) == events[2:4]
    assert store.events_after("m", events[-1].seq) == []
    assert store.statuses("m") == {a: (r.type, r.status) for a, r in store.resources("m").items()}
    assert StateStore.statuses(store, "m") == store.statuses("m")  # the base's default agrees
    assert StateStore.events_after(store, "m", events[2].seq) == store.events_after("m", events[2].seq)


def test_events_in_one_write_keep_their_order(store: StateStore) -> None:
    store.write("m", events=[Event(kind=k, at=5.0) for k in ("a", "b", "c")])
    assert [(e.kind, e.at) for e in store.events("m")] == [("a", 5.0), ("b", 5.0), ("c", 5.0)]


def test_missions_listed_by_name(store: StateStore) -> None:
    for name in ("b", "a", "c"):
        store.write(name)
    assert [m.name for m in store.missions()] == ["a", "b", "c"]


def test_delete_mission_drops_rows_keeps_events_and_new_lineage(store: StateStore) -> None:
    store.write("m", [resource("a")], [Event(kind="plan")])
    lineage = store.mission("m").lineage  # type: ignore[union-attr]
    store.delete_mission("m")
    assert store.mission("m") is None and store.resources("m") == {}
    assert [e.kind for e in store.events("m")] == ["plan"]
    assert store.write("m") == 1 and store.mission("m").lineage != lineage  # type: ignore[union-attr]


def test_a_second_store_sees_committed_writes(store_url: str, open_url: Callable[[str], StateStore]) -> None:
    one, two = open_url(store_url), open_url(store_url)
    one.write("m", [resource("a")])
    assert list(two.resources("m")) == ["a"]


def test_reads_from_other_threads_while_writing(store: StateStore) -> None:
    """The scheduler writes from one thread while others read: no errors, no torn rows."""
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                rows = store.resources("m")
                assert all(r.outputs.get("n") == r.spec.get("n") for r in rows.values())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for n in range(40):
        store.write("m", [resource(f"r{n % 5}", spec={"n": n}, outputs={"n": n})])
    stop.set()
    for t in threads:
        t.join()
    assert errors == []


def test_schema_version_recorded(store: StateStore) -> None:
    from skyform.state.base import SCHEMA_VERSION

    assert store.schema_version() == SCHEMA_VERSION  # type: ignore[attr-defined]


def test_newer_schema_is_refused(store_url: str, open_url: Callable[[str], StateStore]) -> None:
    """A state written by a newer skyform is refused with a message saying to upgrade."""
    store = open_url(store_url)
    store.write("m", [resource("a")])
    with store._writing() as cur:  # type: ignore[attr-defined]
        cur.execute(store._sql("UPDATE {t}skyform_schema SET version = 99"))  # type: ignore[attr-defined]
    with pytest.raises(StateError) as err:
        open_url(store_url)
    from skyform.state.base import SCHEMA_VERSION

    understood = f"this skyform understands up to v{SCHEMA_VERSION} - upgrade skyform"
    assert "was written by skyform schema v99; " + understood in str(err.value)
    with store._writing() as cur:  # type: ignore[attr-defined]
        cur.execute(store._sql(f"UPDATE {{t}}skyform_schema SET version = {SCHEMA_VERSION}"))  # type: ignore[attr-defined]
    assert list(open_url(store_url).resources("m")) == ["a"]  # nothing was changed by the refusal


@pytest.mark.postgres
def test_postgres_reconnects_after_the_server_ends_the_session(
    postgres_url: str, open_url: Callable[[str], StateStore]
) -> None:
    """A server restart or idle timeout: the failed call says so, the next one reconnects."""
    import psycopg

    store = open_url(postgres_url)
    store.write("m")
    pid = store._connection().info.backend_pid  # type: ignore[attr-defined]
    with psycopg.connect(store._conninfo, autocommit=True) as admin:  # type: ignore[attr-defined]
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    store._last_used -= 3600  # type: ignore[attr-defined]  # as after an idle hour: checked first
    assert store.mission("m").serial == 1  # type: ignore[union-attr]
    with psycopg.connect(store._conninfo, autocommit=True) as admin:  # type: ignore[attr-defined]
        admin.execute("SELECT pg_terminate_backend(%s)", (store._connection().info.backend_pid,))  # type: ignore[attr-defined]
    with pytest.raises(StateError, match="could not read the PostgreSQL state"):
        store.mission("m")
    assert store.write("m") == 2


def test_an_older_schema_is_migrated_forward(
    store_url: str, open_url: Callable[[str], StateStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A state opened by a skyform that knows one more version: the migration runs once, the data stays."""
    import skyform.state.postgres as pg_module
    import skyform.state.sqlite as sqlite_module
    from skyform.state.base import SCHEMA_VERSION

    newer = SCHEMA_VERSION + 1

    old = open_url(store_url)
    old.write("m", [resource("a")])
    module, migrations = (
        (sqlite_module, sqlite_module.SQLITE) if store_url.startswith("sqlite") else (pg_module, pg_module.POSTGRES)
    )
    monkeypatch.setattr(module, "SCHEMA_VERSION", newer)
    monkeypatch.setattr(
        module,
        "SQLITE" if module is sqlite_module else "POSTGRES",
        [*migrations, ["ALTER TABLE {t}missions ADD COLUMN note TEXT"]],
    )
    new = open_url(store_url)
    assert new.schema_version() == newer  # type: ignore[attr-defined]
    assert list(new.resources("m")) == ["a"] and new.write("m") == 2
    with new._reading() as cur:  # type: ignore[attr-defined]
        cur.execute(new._sql("SELECT note FROM {t}missions WHERE name = ?"), ("m",))  # type: ignore[attr-defined]
        assert cur.fetchone() == (None,)
    assert open_url(store_url).schema_version() == newer  # type: ignore[attr-defined]  # and only once


def test_approvals_round_trip_and_are_used_once(store: StateStore) -> None:
    """An approval keeps every field, is listed per mission, and only one caller can use it."""
    from skyform.state.base import Approval

    approval = Approval(
        id="a1",
        mission="m",
        plan_digest="sha256:abc",
        lineage="L",
        serial=3,
        approver="alice",
        cost={"EUR": 12.5},
        max_cost=20.0,
        irreversible=("capture",),
        created_at=100.0,
        expires_at=200.0,
    )
    store.add_approval(approval)
    store.add_approval(Approval("b1", "other", "sha256:def", "", 0, "bob", {}, None, (), 101.0, 300.0))
    assert store.approvals("m") == [approval]
    serial = store.mission("m").serial if store.mission("m") else 0
    assert store.use_approval("a1", 150.0) is True
    assert store.use_approval("a1", 151.0) is False  # a second use loses
    assert store.approvals("m")[0].used_at == 150.0
    assert (store.mission("m").serial if store.mission("m") else 0) == serial  # no mission changed


def test_a_revoked_approval_cannot_be_used(store: StateStore) -> None:
    """Revoking keeps the record with who and when; a use after it loses, a second revoke keeps the first."""
    from skyform.state.base import Approval

    store.add_approval(Approval("r1", "m", "sha256:abc", "", 0, "alice", {}, None, (), 100.0, 200.0))
    revoked = store.revoke_approval("r1", 120.0, "bob")
    assert revoked is not None and (revoked.revoked_at, revoked.revoked_by) == (120.0, "bob")
    assert store.use_approval("r1", 130.0) is False
    again = store.revoke_approval("r1", 140.0, "carol")
    assert again is not None and (again.revoked_at, again.revoked_by, again.used_at) == (120.0, "bob", None)
    assert store.revoke_approval("nope", 150.0, "bob") is None
    assert [a.id for a in store.every_approval()] == ["r1"]


def test_a_removed_record_s_spend_moves_to_the_mission_s_ledger(store: StateStore) -> None:
    """Money spent stays spent: the removal and the ledger entry are one write."""
    from skyform.state.spend import LEDGER_KEY, so_far

    paid = {"skyform.spent": [{"amount": 450.0, "currency": "EUR", "basis": "1 capture", "source": "estimate"}]}
    store.write("m", [resource("capture", private=paid), resource("notes")])
    store.write("m", [Removal("capture"), Removal("notes")])
    state = store.mission("m")
    assert state is not None and store.resources("m") == {}
    [entry] = state.attributes[LEDGER_KEY]
    assert entry["address"] == "capture" and entry["amount"] == 450.0 and entry["removed_at"] > 0
    assert so_far(store.resources("m").values(), state.attributes).totals == {"EUR": 450.0}
