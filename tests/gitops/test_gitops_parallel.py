"""gitops/parallel.py on its own: Ctrl-C reaches every running apply; names are claimed in order."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from skyform.gitops import parallel
from skyform.gitops.report import MissionReport


class FakeScheduler:
    def __init__(self) -> None:
        self.interrupted = threading.Event()

    def interrupt(self) -> None:
        self.interrupted.set()


@pytest.fixture
def terminal_ctrl_c() -> object:
    """SIGINT as a terminal's Ctrl-C raises it: Python's own handler, whatever an earlier test
    in this worker process left installed (the test failed about once per full run when the
    process's handler was not the default one: the signal then raised nothing)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("terminal_ctrl_c")
def test_ctrl_c_interrupts_every_running_apply_waits_for_them_and_starts_nothing_else() -> None:
    """A real SIGINT to the main thread, as a terminal sends: it wakes the thread blocked in its
    wait for the applies (``_thread.interrupt_main`` does not, so the applies' own 10 s
    deadline ended the wait and their failed assertions went unseen)."""
    schedulers = parallel.Schedulers()
    started: list[str] = []
    stopped: list[str] = []

    def run_one(path: str) -> MissionReport:
        started.append(path)
        scheduler = FakeScheduler()
        schedulers.attach(scheduler)
        if path == "a":
            time.sleep(0.2)  # both are running
            main = threading.main_thread().ident
            assert main is not None
            signal.pthread_kill(main, signal.SIGINT)  # Ctrl-C, in the waiting thread
        if scheduler.interrupted.wait(10):
            stopped.append(path)
        return MissionReport(path=path, commit="c", status="applied")

    with pytest.raises(KeyboardInterrupt):
        parallel.run_all(["a", "b", "c"], run_one, commit="c", jobs=2, schedulers=schedulers)
    assert sorted(started) == ["a", "b"]  # c never started
    assert sorted(stopped) == ["a", "b"], "the stop did not reach every running apply"
    late = FakeScheduler()
    schedulers.attach(late)  # a mission that reaches its apply after the stop is stopped at once
    assert late.interrupted.is_set()


def test_turns_pass_in_order_whatever_arrives_first() -> None:
    turns = parallel.Turns(["a", "b", "c"])
    passed: list[str] = []

    def claim(key: str, delay: float) -> None:
        time.sleep(delay)
        turns.wait(key)
        passed.append(key)
        turns.passed(key)

    threads = [threading.Thread(target=claim, args=(k, d)) for k, d in (("c", 0.0), ("b", 0.05), ("a", 0.2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert passed == ["a", "b", "c"]
    turns.wait("not in the order")  # passes freely
