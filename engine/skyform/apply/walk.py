"""What a step of an apply may use of the walk that runs it.

The walk (:class:`~.scheduler.Scheduler`) owns the ready set, the timers and the executor;
the steps (:mod:`.steps`, :mod:`.outcomes`, :mod:`.failure`) decide what happens to one
node. This protocol is everything the steps see of the walk.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..runtime import Runtime
from ..spec.mission import Mission
from .calls import Call
from .journal import Journal
from .node import Node, NodeState, Wake


class Walk(Protocol):
    """What a step may use of the walk that runs it (:class:`~.scheduler.Scheduler`)."""

    mission: Mission
    runtime: Runtime
    journal: Journal
    outputs: dict[str, Any]  # resource id → recorded outputs known to this run
    detach: bool
    fail_fast: bool
    interrupted: bool
    time_scale: float  # real seconds per service second (the sandbox clock runs faster)

    def emit(self, event: dict[str, Any]) -> None:
        """Tell the caller of an event (and keep progress in the live log)."""

    def finish(self, node: Node, state: NodeState) -> None:
        """Put ``node`` in a final state and release (or skip) its dependents."""

    def timer(self, delay: float, address: str, wake: Wake) -> None:
        """Wake ``address`` after ``delay`` seconds."""

    def submit(self, node: Node, call: Call) -> None:
        """Send ``call`` for ``node`` once this tick's state is written."""
