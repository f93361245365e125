"""Leases with fencing tokens, in SQLite and PostgreSQL: who owns an operation, and whose
result counts. Real databases; time moves by short real ttls."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from skyform.state import open_store
from skyform.state.plugin import skyform_state_backends

POSTGRES = os.environ.get("SKYFORM_TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(params=["sqlite", "postgresql"])
def leases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        sep = "&" if "?" in POSTGRES else "?"
        url = f"{POSTGRES}{sep}schema=t{uuid.uuid4().hex[:10]}"
    store = open_store(url, tmp_path, skyform_state_backends())
    try:
        yield store.leases()
    finally:
        if request.param == "postgresql":
            store.drop_schema()  # type: ignore[attr-defined]
        store.close()


def take(leases, worker: str, ttl: float = 0.5):  # type: ignore[no-untyped-def]
    return leases.take("c1", mission="m", address="a", step="create", queue="q", worker=worker, ttl=ttl)


def test_a_lease_held_by_a_live_worker_is_not_taken_and_a_lapsed_one_is_with_a_new_token(leases):
    first = take(leases, "w1")
    assert first.lease.token == 1 and first.lease.deliveries == 1
    held = take(leases, "w2")
    assert held.lease is None and held.holder == "w1" and 0 < held.wait <= 0.5
    time.sleep(0.6)
    second = take(leases, "w2")
    assert second.lease.token == 2 and second.lease.deliveries == 2 and second.lease.worker == "w2"


def test_the_same_worker_takes_its_own_lease_back_at_once(leases):
    """A worker whose pool process died gets the redelivery: no wait, a new token."""
    assert take(leases, "w1", ttl=30).lease.token == 1
    again = take(leases, "w1", ttl=30)
    assert again.lease.token == 2 and again.lease.deliveries == 2


def test_a_stale_workers_heartbeat_and_result_are_refused_the_current_ones_accepted_once(leases):
    stale = take(leases, "w1").lease
    time.sleep(0.6)
    current = take(leases, "w2").lease
    assert not leases.renew("c1", stale.token, 0.5)
    assert leases.renew("c1", current.token, 0.5)
    assert not leases.finish("c1", stale.token)
    assert leases.finish("c1", current.token)
    assert not leases.finish("c1", current.token)  # a repeated result is refused too
    assert take(leases, "w3").finished  # a later delivery of a finished call does nothing
    assert leases.running("m") == []


def test_workers_seen_with_their_queues(leases):
    leases.seen("w1@a", host="a", pid=10, queues=["site-a12", "default"])
    leases.seen("w2@b", host="b", pid=11, queues=["default"])
    leases.seen("w1@a", host="a", pid=12, queues=["site-a12"])
    seen = {w.name: w for w in leases.workers()}
    assert sorted(seen) == ["w1@a", "w2@b"]
    assert seen["w1@a"].queues == ["site-a12"] and seen["w1@a"].pid == 12


def test_a_call_the_coordinator_gave_up_on_is_never_run_but_a_live_holder_keeps_it(leases):
    """abandon(): no worker took it (or its holder lapsed) - closed; a live holder - kept."""
    assert leases.abandon("c1", mission="m", address="a", step="create", queue="q")
    assert take(leases, "late-worker").finished  # a worker getting the message later skips it
    held = leases.take("c2", mission="m", address="b", step="create", queue="q", worker="w1", ttl=30)
    assert held.lease is not None
    assert not leases.abandon("c2", mission="m", address="b", step="create", queue="q")
    assert leases.abandon("c2", mission="m", address="b", step="create", queue="q", now=time.time() + 31)
    assert not leases.finish("c2", held.lease.token)  # its late result is refused
