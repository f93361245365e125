"""Apply: the walk of the plan's graph - ready set, executor, timers - not a thread per node.

Short provider calls (create, adopt, update, delete, one poll, cancel) go to an
:class:`~.executor.Executor` (by default a bounded local thread pool), within the global
``parallelism`` and each provider's own limit. Waiting for a remote job is a timer in this
loop, never a sleeping thread, so thousands of jobs can be tracked at once. Every state
transition is written by this loop's thread before the next call that depends on it: the
create intent (with its idempotency key) is durable *before* the create request is sent, so
a process killed at any instant leaves either nothing, an intent that the next run adopts,
or the finished record.

What each action does is in :mod:`.steps` (one function per action kind) and
:mod:`.outcomes` (results, retries, failures); the provider calls themselves are
:mod:`.calls`. A failure skips the failed node's dependents; independent branches finish.
"""

from __future__ import annotations

import heapq
import queue
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..events import EventKind
from ..plan.model import ActionKind, Plan
from ..providers.base import DEFAULT_PARALLELISM, Reporter
from ..runtime import Runtime
from ..spec.mission import Mission
from ..state.base import ResourceState, StateStore
from ..validate.scope import references
from . import livelog, outcomes, providerlog, steps
from .calls import Call, Completion, Logged, Phased, Progress, Warned
from .executor import Executor, ExecutorFactory, LocalExecutor
from .failure import skip
from .journal import Emit, Journal
from .node import ApplyOutcome, Node, NodeState, Wake

#: How long the loop waits for more calls finishing together, so that they share one state
#: transaction (0.5 ms, far below any service's latency).
COALESCE = 0.0005

Observer = Callable[[str, str, "str | None", str, dict[str, Any]], None]
Inbox = queue.SimpleQueue["Progress | Warned | Phased | Logged | Completion"]


class _NodeReporter(Reporter):
    """Routes a running call's progress, phases, log lines and warnings into the loop's inbox."""

    def __init__(self, inbox: Inbox, address: str) -> None:
        self.inbox, self.address = inbox, address

    def progress(self, fraction: float | None, message: str = "") -> None:
        self.inbox.put(Progress(self.address, fraction, message))

    def warn(self, message: str) -> None:
        self.inbox.put(Warned(self.address, message))

    def phase(self, name: str) -> None:
        self.inbox.put(Phased(self.address, name))

    def log(self, level: str, message: str) -> None:
        self.inbox.put(Logged(self.address, level, message))


class Scheduler:
    """Carries out a plan (see the module docstring)."""

    def __init__(
        self,
        mission: Mission,
        plan: Plan,
        runtime: Runtime,
        store: StateStore,
        emit: Emit,
        *,
        parallelism: int = DEFAULT_PARALLELISM,
        fail_fast: bool = False,
        detach: bool = False,
        time_scale: float = 1.0,
        observer: Observer | None = None,
        executor: ExecutorFactory = LocalExecutor,
        records: dict[str, ResourceState] | None = None,
    ) -> None:
        self.mission, self.plan, self.runtime, self.store = mission, plan, runtime, store
        # progress, provider log lines and retries also go to the state's live log (in
        # batches), which skyform ui follows on any machine that reads this state
        self.live = livelog.LiveLog(store, mission.name)
        self._emit = emit
        self.journal = Journal(store, mission.name, self.emit, observer, self.live)
        self.parallelism = max(1, parallelism)
        self.fail_fast, self.detach = fail_fast, detach
        # the sandbox's clock runs faster than real time: so do its poll intervals
        self.time_scale = time_scale
        self.make_executor = executor
        self.inbox: Inbox = queue.SimpleQueue()
        self.timers: list[tuple[float, int, str, Wake]] = []
        self._seq = 0
        self.interrupted = False
        # the records the plan was made from, when the caller still holds them and the state
        # has not moved since (one read of the state per command); else read now
        self.records = records if records is not None else store.resources(mission.name)
        self.outputs: dict[str, Any] = {a: rs.outputs for a, rs in self.records.items()}
        self.inflight = 0
        self.inflight_by_provider: dict[str, int] = {}
        self.nodes: dict[str, Node] = {}
        self.dependents: dict[str, list[str]] = {}
        self.unmet: dict[str, int] = {}
        self.ready: deque[str] = deque()
        self.capped: dict[str, deque[str]] = {}  # ready nodes waiting for their provider's cap
        self.to_submit: list[tuple[Call, Reporter]] = []
        self.references = references(mission)  # resource id -> ids its spec refers to
        self._build()

    # -- set-up ---------------------------------------------------------------------------
    def _build(self) -> None:
        planned = {a.address for a in self.plan.actions}
        changing = {
            a.address
            for a in self.plan.actions
            if a.action in (ActionKind.CREATE, ActionKind.UPDATE, ActionKind.REPLACE, ActionKind.RESUME)
        }
        # delete a resource after everything recorded as depending on it is deleted: an index
        # from each resource to the deletions that depend on it (a scan per deletion was
        # O(N) per node, O(N^2) for a destroy)
        deleted_after: dict[str, set[str]] = {}
        for d in self.plan.actions:
            if d.action in (ActionKind.DELETE, ActionKind.FORGET) and d.address in self.records:
                for dep in self.records[d.address].depends_on:
                    deleted_after.setdefault(dep, set()).add(d.address)
        for action in self.plan.actions:
            record = self.records.get(action.address)
            if action.action in (ActionKind.DELETE, ActionKind.FORGET):
                waits = set(deleted_after.get(action.address, ()))
            else:
                waits = {d for d in action.depends_on if d in planned}
            node = Node(action, record, waits)
            if action.address in self.mission.resources:
                node.recheck = bool(self.references.get(action.address, set()) & changing)
            self.nodes[action.address] = node
        for address, node in self.nodes.items():
            self.unmet[address] = len(node.waits_for)
            for dep in node.waits_for:
                self.dependents.setdefault(dep, []).append(address)
            if not node.waits_for:
                self.ready.append(address)

    # -- the loop -------------------------------------------------------------------------
    def emit(self, event: dict[str, Any]) -> None:
        """Tell the caller (text or JSON output); what the history does not keep also goes
        to the live log."""
        self._emit(event)
        self.live.add(event)

    def interrupt(self) -> None:
        """First Ctrl-C: stop dispatching; in-flight calls finish and are recorded."""
        self.interrupted = True

    def run(self) -> ApplyOutcome:
        """Walk the plan to its end (or to an interrupt) and say what was achieved."""
        self.executor: Executor = self.make_executor(self.runtime, self.parallelism)
        try:
            with providerlog.tapped():
                self._loop()
        finally:
            self.journal.flush()
            self.executor.shutdown()
            self.live.flush(force=True)
        return self._outcome()

    def _loop(self) -> None:
        while True:
            self._dispatch_ready()
            self.journal.flush()  # intents are durable before their calls leave (live records ride along)
            self.live.flush()  # no state moved: the live records alone, when due (FLUSH_SECONDS)
            self._launch()
            if self.inflight == 0 and (self.interrupted or not self._has_work()):
                return
            timeout = None
            # a due timer cannot fire while every slot is busy: then only a completion can
            # move the walk, so wait for one (waking for the timer would spin, a whole core
            # burnt while thousands of polls are overdue)
            if self.timers and not self.interrupted and self.inflight < self.parallelism:
                timeout = max(0.0, self.timers[0][0] - time.monotonic())
            live_due = self.live.due_in()  # pending live records leave on time, timers or not
            if live_due is not None:
                timeout = live_due if timeout is None else min(timeout, live_due)
            try:
                item = self.inbox.get(timeout=timeout if timeout is not None else (0.2 if self.interrupted else 1.0))
            except queue.Empty:
                item = None
            while item is not None:
                self._handle(item)
                try:
                    item = self.inbox.get_nowait()
                except queue.Empty:
                    # calls finishing together share one state transaction: wait a moment
                    # for them when more are in flight and there is something to write (a
                    # poll that saw nothing move writes nothing: no wait, no wake-up)
                    item = None
                    if self.inflight and not self.interrupted and self.journal.pending:
                        try:
                            item = self.inbox.get(timeout=COALESCE)
                        except queue.Empty:
                            item = None
            self._fire_timers()

    def _has_work(self) -> bool:
        return bool(self.timers or self.ready or self.to_submit or any(self.capped.values()))

    def _continue_on_failure(self, address: str) -> bool:
        resource = self.mission.resources.get(address)
        return bool(resource and resource.lifecycle.on_failure == "continue")

    def _dispatch_ready(self) -> None:
        if self.interrupted:
            return
        self._release_capped()
        deferred: list[str] = []
        while self.ready:
            address = self.ready.popleft()
            node = self.nodes[address]
            if node.state != NodeState.PENDING:
                continue
            if not self._has_capacity(node):
                if self.inflight >= self.parallelism:
                    deferred.append(address)
                    break
                # its provider is at its own cap: parked until one of its calls returns, so
                # the ready queue is not rescanned on every tick (O(N) per node for 10,000
                # nodes of a capped provider)
                self.capped.setdefault(node.provider, deque()).append(address)
                continue
            steps.start(self, node)
        self.ready.extendleft(reversed(deferred))

    def _release_capped(self) -> None:
        """Parked nodes of providers with free slots go back to the front of the ready queue
        (as many as slots; O(providers) per tick)."""
        for provider, parked in self.capped.items():
            limit = self.runtime.registry.providers.get(provider)
            cap = limit.parallelism if limit is not None else None
            free = len(parked) if cap is None else cap - self.inflight_by_provider.get(provider, 0)
            released = [parked.popleft() for _ in range(min(free, len(parked)))]
            self.ready.extendleft(reversed(released))

    def _settle(self, node: Node) -> None:
        """Release or skip the dependents of a node that reached a final state."""
        address = node.address
        passed = node.state == NodeState.DONE or (node.state == NodeState.FAILED and self._continue_on_failure(address))
        for dependent in self.dependents.get(address, ()):
            child = self.nodes[dependent]
            if child.state != NodeState.PENDING:
                continue
            if passed:
                self.unmet[dependent] -= 1
                if self.unmet[dependent] == 0:
                    self.ready.append(dependent)
            else:
                skip(self, child, f"{address} did not finish")

    def finish(self, node: Node, state: NodeState) -> None:
        """Put ``node`` in a final state and release (or skip) its dependents."""
        node.state = state
        self._settle(node)

    def _has_capacity(self, node: Node) -> bool:
        if node.action.action == ActionKind.NOOP:
            return True
        if self.inflight >= self.parallelism:
            return False
        limit = self.runtime.registry.providers.get(node.provider)
        cap = limit.parallelism if limit is not None else None
        return cap is None or self.inflight_by_provider.get(node.provider, 0) < cap

    # -- timers ---------------------------------------------------------------------------
    def timer(self, delay: float, address: str, wake: Wake) -> None:
        """Wake ``address`` after ``delay`` seconds."""
        self._seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self._seq, address, wake))

    def _fire_timers(self) -> None:
        now = time.monotonic()
        # polls wait while the pool is full: new work first, and a bounded poll rate for many jobs
        while self.timers and self.timers[0][0] <= now and not self.interrupted and self.inflight < self.parallelism:
            _, _, address, wake = heapq.heappop(self.timers)
            node = self.nodes[address]
            if wake == Wake.RETRY:  # the node starts its step again from its record
                node.state = NodeState.PENDING
                self.ready.append(address)
            elif wake == Wake.CANCEL:
                steps.cancel_for_timeout(self, node)
            else:
                steps.poll(self, node, now)

    # -- provider calls -------------------------------------------------------------------
    def submit(self, node: Node, call: Call) -> None:
        """Send ``call`` for ``node`` once this tick's state is written."""
        node.state = NodeState.INFLIGHT
        node.step = call.step
        self.inflight += 1
        self.inflight_by_provider[node.provider] = self.inflight_by_provider.get(node.provider, 0) + 1
        self.to_submit.append((call, _NodeReporter(self.inbox, node.address)))

    def _launch(self) -> None:
        """Hand queued calls to the executor (after the loop flushed their intents)."""
        work, self.to_submit = self.to_submit, []
        for call, reporter in work:
            self.executor.submit(call, reporter, self.inbox.put)

    def _handle(self, item: Progress | Warned | Phased | Logged | Completion) -> None:
        if isinstance(item, Progress):
            self.emit(
                {
                    "event": EventKind.PROGRESS,
                    "address": item.address,
                    "fraction": item.fraction,
                    "message": item.message,
                }
            )
            return
        if isinstance(item, Warned):
            self.journal.warning(item.address, str(item.message))
            return
        if isinstance(item, Phased):
            self.journal.phase(item.address, item.phase)
            return
        if isinstance(item, Logged):
            self.live.add(
                {"event": EventKind.LOG, "address": item.address, "level": item.level, "message": item.message}
            )
            return
        node = self.nodes[item.address]
        self.inflight -= 1
        self.inflight_by_provider[node.provider] -= 1
        outcomes.on_completion(self, node, item)

    def _outcome(self) -> ApplyOutcome:
        out = ApplyOutcome(interrupted=self.interrupted and not self.fail_fast)
        for address, node in self.nodes.items():
            if node.state == NodeState.DONE:
                out.done.append(address)
            elif node.state == NodeState.FAILED:
                out.failed[address] = node.error or "failed"
            elif node.state in (NodeState.DETACHED, NodeState.WAITING):
                out.detached.append(address)
            elif node.state in (NodeState.SKIPPED, NodeState.PENDING, NodeState.RETRY):
                out.skipped.append(address)
        return out
