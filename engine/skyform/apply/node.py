"""The vocabulary of an apply: node states, provider-call steps and outcomes, the result.

A :class:`Node` is one planned action being carried out; the walk moves it through the
:class:`NodeState` s, and each provider call it makes is a :class:`Step` that ends in an
:class:`Outcome` (or an error).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..plan.model import Action
from ..providers.base import Record
from ..state.base import ResourceState


class NodeState(StrEnum):
    """Where a node is in the walk."""

    PENDING = "pending"  # waiting for its dependencies, or for capacity
    INFLIGHT = "inflight"  # a provider call is out
    WAITING = "waiting"  # a timer will poll it (or cancel it)
    RETRY = "retry"  # a timer will start its step again after a transient failure
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"  # a dependency did not finish
    DETACHED = "detached"  # --detach: left running remotely, recorded as running


#: The states a node does not leave.
FINAL = frozenset({NodeState.DONE, NodeState.FAILED, NodeState.SKIPPED, NodeState.DETACHED})


class Step(StrEnum):
    """The provider call a node has out (or had last)."""

    NONE = ""
    CREATE = "create"  # adopt first where an earlier create may have reached the service
    UPDATE = "update"
    DELETE = "delete"
    POLL = "poll"
    CANCEL = "cancel"


class Outcome(StrEnum):
    """How a provider call ended when it did not raise."""

    CREATED = "created"
    ADOPTED = "adopted"
    UPDATED = "updated"
    POLLED = "polled"
    DELETED = "deleted"
    DELETED_THEN_CREATE = "deleted_then_create"  # the first half of a replace
    CANCELLED = "cancelled"


class Wake(StrEnum):
    """What a timer does when it fires."""

    POLL = "poll"
    RETRY = "retry"
    CANCEL = "cancel"


@dataclass
class Node:
    """One action being carried out."""

    action: Action
    record: ResourceState | None
    waits_for: set[str]
    state: NodeState = NodeState.PENDING
    step: Step = Step.NONE
    attempts: int = 0
    poll_failures: int = 0
    spec: Any = None
    interval: float = 0.0
    deadline: float | None = None
    started: float = 0.0
    error: str | None = None
    recheck: bool = False  # a referenced resource changes: check the resolved spec again
    polled: bool = False
    outputs: dict[str, Any] = field(default_factory=dict)
    # the provider's view of the record, with the record's parts it was made from (reused
    # while polls leave them unchanged: steps.provider_view), and the progress last shown
    view: tuple[tuple[tuple[Any, ...], tuple[Any, ...]], Record] | None = None
    shown: tuple[float | None, str | None] | None = None

    @property
    def address(self) -> str:
        return self.action.address

    @property
    def provider(self) -> str:
        return self.action.type.partition(".")[0]


@dataclass
class ApplyOutcome:
    """What an apply achieved."""

    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    detached: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted
