"""What a provider is: a name, connection settings, resource kinds and their operations.

A provider plugin returns :class:`Provider` objects from the ``skyform_providers`` hook.
Each :class:`ResourceKind` declares its spec schema (the vendor's documented model), its
outputs, which fields are immutable, whether it is a long-running remote job, and implements
the operations the engine calls::

    check        offline semantic rules a schema cannot state (validate time)
    plan_check   remote checks at plan time (a node's /options, a client's priority range)
    estimate_cost  what the work will cost (a Cost with its basis and confidence), or None
    estimate_update_cost  what an in-place update costs (the delta, often free)
    irreversibility  what an action cannot undo (reversible, cancellable until, irreversible)
    plan_change  decide update vs replace for a set of changed fields, with a note
    relocate     checkout-dependent values of an old record, mapped to today's form
    create       make the remote object; may return status "running" for a job
    adopt        find the object an interrupted create made, by its idempotency key
    read         observe the remote object (None: it is gone)
    poll         one look at a running job; "ready", "running" or "failed"
    update       change a live object in place
    cancel       stop a running job (lifecycle.timeout)
    delete       remove the remote object
    datasets     what a finished resource produced, for the STAC catalog and provenance

Operations are plain blocking calls; the engine runs them on a worker pool, retries
``TransientError`` per the resource's lifecycle, and schedules polls itself (no sleeping).
They raise errors from :mod:`skyform.errors`, never library exceptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from ..errors import Issue
from .context import CheckContext, OperationContext
from .context import Reporter as Reporter  # re-exported: where providers and the engine import it from
from .cost import Cost
from .irreversibility import Irreversibility

if TYPE_CHECKING:
    from ..catalog.model import Dataset
    from ..sandbox.simulator import Simulator, SimulatorOptions

#: Concurrent provider calls of one run (``--parallelism``), for refresh and apply alike;
#: each provider's own ``Provider.parallelism`` caps its share of them.
DEFAULT_PARALLELISM = 10

Status = Literal["ready", "running", "failed"]
ALL_FIELDS = frozenset({"*"})


@dataclass
class Result:
    """What an operation found or achieved.

    ``observed`` is the remote view of spec fields (used to detect drift); ``private`` is
    provider bookkeeping kept in state (never secrets), handed back in ``Record.private``.
    """

    remote_id: str | None = None
    status: Status = "ready"
    outputs: dict[str, Any] = field(default_factory=dict)
    observed: dict[str, Any] | None = None
    private: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    progress: float | None = None  # 0..1 where the service reports it
    poll_after: float | None = None  # seconds until the next poll, if the service says
    cost: Cost | None = None  # what the service reports the work cost (recorded as spent)


@dataclass(frozen=True)
class Record:
    """A resource as recorded in state, handed to read/poll/update/cancel/delete."""

    address: str
    type: str
    remote_id: str | None
    status: str
    spec: dict[str, Any]  # the applied spec; secrets are digests here
    outputs: dict[str, Any]
    observed: dict[str, Any]
    private: dict[str, Any]
    idempotency_key: str
    intent_at: float  # epoch seconds when the create intent was recorded


@dataclass(frozen=True)
class Change:
    """One changed field between the applied and the desired spec (or the observed one).

    The plan shows and saves these (``after`` may be Unknown: "known after apply") and the
    kinds receive the same objects in ``plan_change`` and ``update``.
    """

    path: tuple[str | int, ...]
    before: Any
    after: Any

    @property
    def field(self) -> str:
        """The top-level field that changed."""
        return str(self.path[0]) if self.path else ""

    @property
    def dotted(self) -> str:
        """The path as people write it in ``ignore_changes``: ``labels.0.color``."""
        return ".".join(map(str, self.path))

    def to_json(self) -> dict[str, Any]:
        """The change as a saved plan holds it (secrets as digests, Unknown marked)."""
        from ..spec.values import to_storable

        # the path as a list: a list index stays an int, a key that looks like one stays a str
        return {"path": list(self.path), "before": to_storable(self.before), "after": to_storable(self.after)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        """The inverse of :meth:`to_json`; TypeError on a path that is not keys and indexes."""
        from ..spec.values import from_storable

        path = data["path"]
        if not isinstance(path, list) or not all(isinstance(p, (str, int)) and not isinstance(p, bool) for p in path):
            raise TypeError(f"a change's path must be a list of keys and indexes, not {path!r}")
        return cls(tuple(path), from_storable(data.get("before")), from_storable(data.get("after")))


@dataclass(frozen=True)
class ChangePlan:
    """A kind's decision for a set of changes: update in place or replace, and why."""

    action: Literal["update", "replace"]
    note: str | None = None


class ResourceKind:
    """Base class of a resource kind; subclasses set the class attributes and override ops.

    ``immutable`` names top-level spec fields whose change forces a replace (``ALL_FIELDS``:
    any change). ``stable_outputs`` and ``output_sources`` say which outputs an in-place
    update keeps (``id`` by default), so that updating a parent does not replace its
    children (see ``kept_outputs``). ``delete_mode`` says what deleting means: ``"delete"`` (a remote call),
    ``"forget"`` (the object goes with its parent; only state is dropped) or ``"manual"``
    (the API cannot delete it: the plan says so and `--forget` is needed).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    spec_schema: ClassVar[Mapping[str, Any]] = {"type": "object"}
    outputs_schema: ClassVar[Mapping[str, Any]] = {"type": "object"}
    immutable: ClassVar[frozenset[str]] = frozenset()
    long_running: ClassVar[bool] = False
    poll_interval: ClassVar[float] = 5.0
    max_poll_interval: ClassVar[float] = 60.0
    #: a poll may move data (the poll that sees a job done downloads its products): with
    #: ``apply --executor celery`` such polls run on the workers, like creates; other polls
    #: stay in the coordinator (cheap, and waiting never sits inside a worker's task)
    poll_on_workers: ClassVar[bool] = False
    delete_mode: ClassVar[Literal["delete", "forget", "manual"]] = "delete"
    delete_note: ClassVar[str] = ""
    data_source: ClassVar[bool] = False  # read-only: "create" only reads
    #: outputs no in-place update changes (the remote id, a URL made of it): the plan keeps
    #: their recorded values, so what references them is not planned as a replace
    stable_outputs: ClassVar[frozenset[str]] = frozenset({"id"})
    #: outputs an in-place update changes only when one of the named spec fields changes
    #: (e.g. ``{"label_ids": {"labels"}}``): an update that leaves those alone keeps them
    output_sources: ClassVar[Mapping[str, frozenset[str]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "estimate" in cls.__dict__:  # the operation before issue 18: say so at import, not silently
            raise TypeError(
                f"{cls.__qualname__}.estimate: the operation is now estimate_cost(spec, ctx) -> Cost | None "
                "with basis and confidence (docs/plugins.md, Costs)"
            )

    # -- validate ---------------------------------------------------------------------
    def check(self, spec: Mapping[str, Any], ctx: CheckContext) -> Iterable[Issue]:
        """Semantic rules beyond the schema; values may be ``Unknown`` (skip those)."""
        return ()

    # -- plan -------------------------------------------------------------------------
    def plan_check(self, spec: Mapping[str, Any], ctx: OperationContext) -> Iterable[Issue]:
        """Remote checks at plan time; called again at apply if the spec had unknowns."""
        return ()

    def estimate_cost(self, spec: Mapping[str, Any], ctx: OperationContext) -> Cost | None:
        """What creating (or replacing, updating) this resource will cost, or None: unknown.

        Say what it is computed from in ``basis`` and how firm it is in ``confidence``; for
        recurring work, the whole window in ``amount`` and its ``occurrences``. Return None,
        never a zero, when there is nothing to compute it from (no ``prices`` setting, a
        quantity known only after apply): the plan then lists it as "cost unknown".
        """
        return None

    def estimate_update_cost(
        self, record: Record, spec: Mapping[str, Any], changes: list[Change], ctx: OperationContext
    ) -> Cost | None:
        """What updating ``record`` in place to ``spec`` will cost: the delta, often nothing.

        An update is not a new create: a kind whose in-place update keeps the paid work (a
        satellite order whose readiness rule changed, a renamed task) returns
        ``Cost.free(...)``, one whose update bills again (a job re-run with new options) its
        estimate. The default, for kinds that do not say, is the create's estimate marked
        as such: the budget over-counts rather than misses money (a replace is always
        priced by :meth:`estimate_cost`, as the create it is).
        """
        cost = self.estimate_cost(spec, ctx)
        if cost is None or cost.is_free:
            return cost
        return replace(cost, basis=f"{cost.basis}; priced as a create: the kind does not say what an update costs")

    def irreversibility(
        self, action: str, spec: Mapping[str, Any] | None, record: Record | None, ctx: CheckContext
    ) -> Irreversibility:
        """What ``action`` (create, update, replace or delete) cannot undo; reversible by default.

        Declared from the spec (None for a delete) and the record (None for a create) alone,
        never from a request. The plan marks every action that is not reversible, and apply
        needs ``--ack-irreversible`` or an approval for one that is irreversible.
        """
        return Irreversibility.reversible()

    def plan_change(self, changes: list[Change], record: Record) -> ChangePlan:
        """Update in place unless an immutable field changed."""
        if self.immutable == ALL_FIELDS or any(c.field in self.immutable for c in changes):
            return ChangePlan("replace")
        return ChangePlan("update")

    def kept_outputs(self, outputs: Mapping[str, Any], changes: list[Change]) -> dict[str, Any]:
        """The outputs an in-place update by ``changes`` leaves as they are.

        The planner shows these to dependents at plan time; every other output is known
        only after the update. The default keeps ``stable_outputs`` and the
        ``output_sources`` whose fields the changes do not touch; override it only when
        an output's stability depends on more than the changed field names.
        """
        touched = {c.field for c in changes}
        return {
            name: value
            for name, value in outputs.items()
            if name in self.stable_outputs
            or (name in self.output_sources and not touched & set(self.output_sources[name]))
        }

    def relocate(self, record: Record, mission_dir: Path) -> dict[str, str]:
        """Values this record holds in a checkout-dependent form, mapped to the form the kind
        records now (e.g. an absolute path inside the mission directory -> its relative form).

        The engine rewrites every equal string in every record of the mission (this one and
        the dependants its outputs were copied into) before planning, and writes the result
        at the next apply: state made by an older version, or in another checkout, then
        plans no change. Return only mappings the record proves; the default has none.
        """
        return {}

    # -- apply ------------------------------------------------------------------------
    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        raise NotImplementedError(f"{self.name}: create")

    def adopt(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result | None:
        """Find what an interrupted create made for ``ctx.idempotency_key``.

        Return None when nothing was made (the engine then creates), a Result for the
        object found, or raise ``AdoptError`` when it cannot tell without guessing.
        Adopt must only look, never change anything: the planner calls it while
        refreshing, to show in the plan what an apply would take over. Finish an
        interrupted upload in ``create`` or the first ``poll`` instead.
        """
        return None

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        """Observe the remote object; None when it no longer exists."""
        return Result(remote_id=record.remote_id, status="ready", outputs=dict(record.outputs))

    def poll(self, record: Record, ctx: OperationContext) -> Result:
        """One look at a running job."""
        result = self.read(record, ctx)
        if result is None:
            from ..errors import NotFound

            raise NotFound(f"{record.address}: remote object {record.remote_id} disappeared")
        return result

    def update(self, record: Record, spec: Mapping[str, Any], changes: list[Change], ctx: OperationContext) -> Result:
        raise NotImplementedError(f"{self.name}: update")

    def cancel(self, record: Record, ctx: OperationContext) -> None:
        """Stop a running remote job (timeout, Ctrl-C never calls this)."""

    def delete(self, record: Record, ctx: OperationContext) -> None:
        raise NotImplementedError(f"{self.name}: delete")

    # -- provenance -------------------------------------------------------------------
    def datasets(self, record: Record) -> list[Dataset]:
        """The products of a ready resource, from its record alone (no request is sent).

        Each becomes one STAC Item of ``skyform catalog``. Name stored files with the
        sha256 skyform recorded when it wrote them, never a digest the service sent.
        """
        return []


@dataclass(frozen=True)
class Provider:
    """A provider: connection settings schema, kinds, a client factory and a simulator.

    ``connect(settings)`` returns the client handed to operations as ``ctx.client`` (one per
    run; closed through its ``close()`` if it has one). ``secret_settings`` names settings
    that are redacted everywhere and never stored. ``parallelism`` caps concurrent calls
    to this provider. ``simulator`` builds the sandbox simulator of the service.
    ``sandbox_keeps`` names the settings a sandbox run takes from the mission (``prices``).
    """

    name: str
    version: str
    kinds: tuple[ResourceKind, ...]
    connect: Callable[[Mapping[str, Any]], Any]
    settings_schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object"})
    secret_settings: frozenset[str] = frozenset()
    parallelism: int | None = None
    simulator: Callable[[SimulatorOptions], Simulator] | None = None
    description: str = ""
    #: settings about the operator's contract rather than the connection: ``--sandbox``
    #: keeps the mission's values of these while the simulator supplies URLs and credentials
    sandbox_keeps: frozenset[str] = frozenset({"prices"})

    def kind(self, name: str) -> ResourceKind | None:
        for k in self.kinds:
            if k.name == name:
                return k
        return None
