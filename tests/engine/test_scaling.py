"""What keeps per-resource cost flat at 10,000+ resources, pinned without timing anything.

No empty artifact directory per resource; the state is not decoded again just to learn
whether it is empty or to compute outputs a mission does not declare; refresh is a bounded
pool over chunks, per provider and under the provider's own cap; the garbage collector is
paused around building a plan and resumes afterwards.
"""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest

from skyform.plan.refresh import REFRESH_CHUNK_MAX, refresh, refresh_chunks
from skyform.state.base import ResourceState

MISSION = """
    resources:
      photos: {type: local.Files, spec: {paths: [data/a.jpg]}}
      more: {type: local.Files, spec: {paths: [data/a.jpg]}, depends_on: [photos]}
"""


def test_plan_and_apply_create_no_artifact_directories(ws):
    """Only an operation that writes makes `.skyform/artifacts/<id>`; local.Files writes none."""
    (ws.path / "data").mkdir()
    (ws.path / "data" / "a.jpg").write_bytes(b"\xff\xd8 one \xff\xd9")
    ws.write(MISSION)
    assert ws.run("apply", "--auto-approve", ws.path).code == 0
    assert ws.run("plan", "--detailed-exitcode", ws.path).code == 0  # refresh reads both
    assert sorted(ws.records()) == ["more", "photos"]
    assert not (ws.path / ".skyform" / "artifacts").exists()


def test_has_resources_answers_without_reading_them(tmp_path: Path):
    """StateStore.has_resources: False for an empty or unknown mission, True once one is recorded."""
    from skyform.state.sqlite import SqliteStateStore

    store = SqliteStateStore(tmp_path / "state.db")
    try:
        assert store.has_resources("m") is False
        store.write(
            "m",
            [
                ResourceState(
                    address="a",
                    type="local.Files",
                    status="ready",
                    idempotency_key="k",
                    intent_at=0.0,
                )
            ],
        )
        assert store.has_resources("m") is True and store.has_resources("other") is False
    finally:
        store.close()


@pytest.mark.parametrize("n,workers", [(1, 1), (10, 4), (1000, 10), (50_000, 10)])
def test_refresh_chunks_cover_every_record_once_in_order(n: int, workers: int):
    """The chunks partition the records in order, are at most REFRESH_CHUNK_MAX long, and their
    count grows with N / REFRESH_CHUNK_MAX, not with N (one future per chunk)."""
    items = [
        ResourceState(
            address=f"r{i}",
            type="local.Files",
            status="ready",
            idempotency_key="k",
            intent_at=0.0,
        )
        for i in range(n)
    ]
    chunks = refresh_chunks(items, workers)
    assert [rs for chunk in chunks for rs in chunk] == items
    assert max(len(c) for c in chunks) <= REFRESH_CHUNK_MAX
    assert len(chunks) <= max(workers * 4, -(-n // REFRESH_CHUNK_MAX))


class _CountingKind:
    """Records which threads read, and how many reads overlapped at most."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.most = 0
        self.threads: set[int] = set()

    def read(self, record, ctx):  # type: ignore[no-untyped-def]
        from skyform.providers import Result

        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
            self.threads.add(threading.get_ident())
        try:
            return Result(remote_id=record.remote_id, observed={})
        finally:
            with self.lock:
                self.active -= 1


class _Runtime:
    """The two things refresh asks of a runtime: a kind per type and an operation context."""

    def __init__(self, kind: _CountingKind, cap: int | None) -> None:
        from skyform.providers import Provider

        self.kind_ = kind
        provider = Provider(
            name="capped",
            version="1",
            kinds=(),
            connect=lambda s: None,
            parallelism=cap,
        )
        self.registry = type("R", (), {"providers": {"capped": provider}})()

    def kind(self, type_name: str):  # type: ignore[no-untyped-def]
        return None, self.kind_

    def context(self, address: str, type_name: str, **kw):  # type: ignore[no-untyped-def]
        return None


def test_refresh_honours_the_providers_parallelism_and_keeps_the_records_order():
    """A provider with parallelism=2 is read by at most two threads at once, even at parallelism 10;
    the observations come back in the records' order."""
    kind = _CountingKind()
    records = {
        f"r{i:04d}": ResourceState(
            address=f"r{i:04d}",
            type="capped.Thing",
            status="ready",
            idempotency_key="k",
            intent_at=0.0,
            remote_id=str(i),
        )
        for i in range(500)
    }
    seen = refresh(_Runtime(kind, cap=2), records, parallelism=10)  # type: ignore[arg-type]
    assert list(seen) == list(records)
    assert all(o.result is not None and o.result.remote_id == records[a].remote_id for a, o in seen.items())
    assert kind.most <= 2 and len(kind.threads) <= 2


def test_the_collector_is_paused_while_planning_and_resumes(ws, monkeypatch):
    """gc is disabled inside Planner.plan and enabled again after the command."""
    import skyform.plan.planner

    states: list[bool] = []
    original = skyform.plan.planner.Planner.plan

    def spy(self, **kw):  # type: ignore[no-untyped-def]
        states.append(gc.isenabled())
        return original(self, **kw)

    monkeypatch.setattr(skyform.plan.planner.Planner, "plan", spy)
    (ws.path / "data").mkdir()
    (ws.path / "data" / "a.jpg").write_bytes(b"\xff\xd8 one \xff\xd9")
    ws.write(MISSION)
    assert gc.isenabled()
    assert ws.run("plan", ws.path).code == 0
    assert states == [False] and gc.isenabled()


def test_an_apply_reads_and_decodes_the_state_once(ws, monkeypatch):
    """`skyform apply` on recorded state: the planner's read serves the scheduler too (the state
    cannot have moved: the plan's serial is checked under the lock), and nothing else decodes it."""
    from skyform.state.sqlite import SqliteStateStore

    (ws.path / "data").mkdir()
    (ws.path / "data" / "a.jpg").write_bytes(b"\xff\xd8 one \xff\xd9")
    ws.write(MISSION)
    assert ws.run("apply", "--auto-approve", ws.path).code == 0
    (ws.path / "data" / "a.jpg").write_bytes(b"\xff\xd8 edited \xff\xd9")  # both resources update
    reads: list[str] = []
    original = SqliteStateStore.resources

    def counted(self, mission):  # type: ignore[no-untyped-def]
        reads.append(mission)
        return original(self, mission)

    monkeypatch.setattr(SqliteStateStore, "resources", counted)
    ran = ws.run("apply", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    assert "2 updated" in ran.out or "2 to update" in ran.out, ran.out
    assert reads == ["mission"]
