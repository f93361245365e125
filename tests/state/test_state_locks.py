"""Locking across processes, for every backend: held, dead holders, force-unlock, races."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

import pytest

from skyform.errors import LockHeld
from skyform.state import StateStore


def wait_line(proc, expect: str, timeout: float = 30.0) -> str:
    """The child's next stdout line, which must start with ``expect`` (failing, not hanging)."""
    import selectors

    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            proc.kill()
            pytest.fail(f"the child printed nothing in {timeout} s")
    line = proc.stdout.readline()
    assert line.startswith(expect), (
        f"child said {line!r}; stderr: {proc.stderr.read() if proc.poll() is not None else ''}"
    )
    return line


def acquire_eventually(store: StateStore, mission: str, warnings: list[str], timeout: float = 10.0):
    """Acquire, retrying while the server notices that a killed holder's session ended."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return store.acquire_lock(mission, "apply", warn=warnings.append)
        except LockHeld:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_held_lock_names_the_holder(store_url: str, open_url: Callable[[str], StateStore], holder) -> None:
    """A second run fails at once with a message naming holder, pid, host and operation."""
    proc = holder(store_url, "m", "hold")
    wait_line(proc, "locked")
    store = open_url(store_url)
    start = time.monotonic()
    with pytest.raises(LockHeld) as err:
        store.acquire_lock("m", "plan", warn=pytest.fail)
    assert time.monotonic() - start < 2.0
    assert "mission 'm' is locked by" in str(err.value) and f"(pid {proc.pid} on " in str(err.value)
    assert "for apply" in str(err.value)
    assert err.value.holder["pid"] == proc.pid and err.value.exit_code == 6
    info = store.lock_info("m")
    assert info is not None and info.pid == proc.pid and info.operation == "apply"


def test_lock_in_same_process_is_not_reentrant(store_url: str, open_url: Callable[[str], StateStore]) -> None:
    one, two = open_url(store_url), open_url(store_url)
    one.acquire_lock("m", "apply", warn=pytest.fail)
    with pytest.raises(LockHeld):
        two.acquire_lock("m", "apply", warn=pytest.fail)
    with pytest.raises(LockHeld):
        one.acquire_lock("m", "apply", warn=pytest.fail)


def test_release_and_locked_context(store: StateStore) -> None:
    with store.locked("m", "apply", warn=pytest.fail) as info:
        assert store.lock_info("m") == info
    assert store.lock_info("m") is None
    store.acquire_lock("m", "destroy", warn=pytest.fail)
    store.release_lock("m")
    store.release_lock("m")  # releasing twice is harmless
    assert store.lock_info("m") is None


def test_other_missions_are_not_blocked(store_url: str, open_url: Callable[[str], StateStore]) -> None:
    one, two = open_url(store_url), open_url(store_url)
    one.acquire_lock("a", "apply", warn=pytest.fail)
    two.acquire_lock("b", "apply", warn=pytest.fail)
    assert one.lock_info("b") is not None and two.lock_info("a") is not None


def test_dead_holder_is_taken_over_with_a_warning(
    store_url: str, open_url: Callable[[str], StateStore], holder
) -> None:
    """A holder that exited without releasing leaves a lock the next run takes over, saying so."""
    proc = holder(store_url, "m", "exit")
    wait_line(proc, "locked")
    proc.wait()
    store = open_url(store_url)
    warnings: list[str] = []
    info = acquire_eventually(store, "m", warnings)
    assert info.pid == os.getpid()
    assert len(warnings) == 1 and f"pid {proc.pid}" in warnings[0] and "taking over the lock" in warnings[0]
    assert [e.kind for e in store.events("m")] == ["lock_taken_over"]


def test_holder_killed_with_sigkill_releases_the_lock(
    store_url: str, open_url: Callable[[str], StateStore], holder
) -> None:
    proc = holder(store_url, "m", "hold")
    wait_line(proc, "locked")
    store = open_url(store_url)
    with pytest.raises(LockHeld):
        store.acquire_lock("m", "apply", warn=pytest.fail)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    warnings: list[str] = []
    assert acquire_eventually(store, "m", warnings).pid == os.getpid()
    assert len(warnings) == 1 and f"pid {proc.pid}" in warnings[0]


def test_force_unlock_removes_a_live_holders_lock(
    store_url: str, open_url: Callable[[str], StateStore], holder
) -> None:
    proc = holder(store_url, "m", "hold")
    wait_line(proc, "locked")
    store = open_url(store_url)
    gone = store.force_unlock("m")
    assert gone is not None and gone.pid == proc.pid
    assert store.acquire_lock("m", "apply", warn=pytest.fail).pid == os.getpid()
    assert store.force_unlock("other") is None


def test_two_processes_racing_one_wins(store_url: str, open_url: Callable[[str], StateStore], holder) -> None:
    """Processes starting at the same instant: exactly one gets the lock, the rest are told who."""
    open_url(store_url)  # schema created before the race
    start = time.time() + 1.5
    procs = [holder(store_url, "m", "race", str(start)) for _ in range(3)]
    lines = [wait_line(p, "").strip() for p in procs]
    for p in procs:
        p.wait(timeout=20)
    assert sorted(line.split()[0] for line in lines) == ["lost", "lost", "won"], lines
    winner = procs[[line.split()[0] for line in lines].index("won")]
    assert all(f"pid {winner.pid}" in line for line in lines if line.startswith("lost")), lines


def test_concurrent_writes_of_two_missions(store_url: str, open_url: Callable[[str], StateStore], holder) -> None:
    """Two processes each lock and write their own mission at the same time; both finish."""
    open_url(store_url)
    procs = [holder(store_url, name, "writes", "40") for name in ("a", "b")]
    for p in procs:
        wait_line(p, "done")
        assert p.wait(timeout=30) == 0
    store = open_url(store_url)
    assert [store.mission(n).serial for n in ("a", "b")] == [40, 40]  # type: ignore[union-attr]
    assert [e.data["i"] for e in store.events("a")] == list(range(40))
    assert store.lock_info("a") is None and store.lock_info("b") is None
