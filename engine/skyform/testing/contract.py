"""The provider contract suite: what every skyform provider kind must do, as pytest tests.

A provider's tests subclass :class:`ProviderContract` once per kind::

    from skyform.testing.contract import ProviderContract

    class TestTaskContract(ProviderContract):
        provider = "nodeodm"            # an installed provider's name, or a Provider object
        kind = "Task"
        valid_spec = {"name": "a12", "images": ["img/1.jpg"]}
        files = {"img/1.jpg": b"..."}   # written into the mission directory first
        invalid_specs = [({"name": "a12"}, "'images' is a required property")]
        update_spec = None              # a spec changing only updatable fields, or None
        prices = {"per_compute_hour": 12, "currency": "EUR"}  # a priced kind: its estimate

The operation-level tests drive the kind's real code over real HTTP against the provider's
simulator; the CLI-level test runs ``skyform apply --sandbox`` twice through the CLI.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pytest
from jsonschema import Draft202012Validator

from ..errors import AdoptError, RateLimited, TransientError
from ..providers.base import CheckContext, Provider, Record, ResourceKind
from ..providers.cost import Confidence, Cost
from ..providers.irreversibility import Irreversibility, Reversibility
from ..sandbox.faults import FaultRule, Faults
from ..sandbox.host import Running
from .operations import Operations, changes_between, find_provider, spec_problems


def _case_id(case: Sequence[Any]) -> str:
    return str(case[1])[:40].replace(" ", "_")


class ProviderContract:
    """Subclass as ``Test<Kind>Contract`` and set the class attributes (see the module docstring)."""

    provider: ClassVar[str | Provider]
    kind: ClassVar[str]
    valid_spec: ClassVar[Mapping[str, Any]]
    #: (spec, message fragment) or (spec, message fragment, path tuple) the documentation rejects
    invalid_specs: ClassVar[Sequence[tuple[Any, ...]]] = ()
    update_spec: ClassVar[Mapping[str, Any] | None] = None
    #: the provider's ``prices`` setting, for a kind that estimates from declared prices
    prices: ClassVar[Mapping[str, Any] | None] = None
    #: files (relative path -> content) the spec refers to, written into the mission directory
    files: ClassVar[Mapping[str, bytes | str]] = {}
    #: False: the service offers no way to find an object by key; adopt must raise AdoptError
    supports_adopt: ClassVar[bool] = True
    clock_factor: ClassVar[float] = 5000.0
    job_timeout: ClassVar[float] = 30.0

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrize the rejection test with ``invalid_specs``, one test per case."""
        if "invalid_case" in metafunc.fixturenames:
            cases = list(getattr(metafunc.cls, "invalid_specs", ()))
            if not cases:
                metafunc.parametrize(
                    "invalid_case", [pytest.param(None, marks=pytest.mark.skip(reason="no invalid_specs declared"))]
                )
            else:
                metafunc.parametrize("invalid_case", cases, ids=[_case_id(c) for c in cases])

    # -- fixtures ------------------------------------------------------------------------------
    @pytest.fixture(scope="class")
    @classmethod
    def contract_provider(cls) -> Provider:
        """The provider under test (an installed one is loaded through its entry point)."""
        return find_provider(cls.provider) if isinstance(cls.provider, str) else cls.provider

    @pytest.fixture(scope="class")
    @classmethod
    def contract_kind(cls, contract_provider: Provider) -> ResourceKind:
        """The kind under test."""
        kind = contract_provider.kind(cls.kind)
        assert kind is not None, f"provider {contract_provider.name} has no kind {cls.kind!r}"
        return kind

    @pytest.fixture(scope="class")
    @classmethod
    def contract_sandbox(
        cls, contract_provider: Provider, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[Running]:
        """The provider's simulator, one per test class, with its own (empty) fault rules."""
        from ..sandbox.session import start_sandbox

        if contract_provider.simulator is None:
            pytest.skip(f"provider {contract_provider.name} ships no simulator")
        state = tmp_path_factory.mktemp(f"sandbox-{contract_provider.name}")
        with start_sandbox([contract_provider], state, clock_factor=cls.clock_factor, faults=Faults()) as host:
            yield host.running[contract_provider.name]

    @pytest.fixture
    def contract_mission_dir(self, tmp_path: Path) -> Path:
        """A mission directory holding ``files``."""
        for name, content in self.files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode() if isinstance(content, str) else content)
        return tmp_path

    @pytest.fixture
    def ops(
        self, contract_provider: Provider, contract_sandbox: Running, contract_mission_dir: Path
    ) -> Iterator[Operations]:
        """The kind's operations connected to the simulator, faults cleared before and after."""
        contract_sandbox.simulator.faults.replace([])
        operations = Operations(
            contract_provider,
            self.kind,
            contract_sandbox.settings(),
            contract_mission_dir,
            poll_timeout=self.job_timeout,
        )
        try:
            operations.prepared = dict(self.prepare(operations))
            yield operations
        finally:
            contract_sandbox.simulator.faults.replace([])
            operations.close()

    def prepare(self, ops: Operations) -> Mapping[str, Any]:
        """Spec fields to merge into valid_spec/update_spec for operation tests (default none).

        Override for kinds that need a parent object first, e.g.
        ``return {"project_id": ops.sibling("Project").create({"name": "p"}).remote_id}``.
        """
        return {}

    def valid(self, ops: Operations) -> dict[str, Any]:
        """valid_spec with the prepared fields."""
        return {**self.valid_spec, **ops.prepared}

    def cli_resources(self, provider: str) -> dict[str, Any]:
        """The mission's resources for the CLI test: valid_spec alone, as ``it``.

        Override for kinds that need a parent, e.g. add a ``parent`` resource and refer to
        it with ``"${{ resources.parent.outputs.id }}"`` in the spec.
        """
        return {"it": {"type": f"{provider}.{self.kind}", "spec": dict(self.valid_spec)}}

    def objects(self, sandbox: Running) -> int:
        """All objects the simulator holds (any kind): creating one must add exactly one."""
        with sandbox.simulator.lock:
            return sum(sandbox.simulator.objects().values())

    # -- schema --------------------------------------------------------------------------------
    def test_schemas_are_valid_draft_2020_12(self, contract_kind: ResourceKind) -> None:
        """spec_schema and outputs_schema are valid JSON Schemas (Draft 2020-12)."""
        Draft202012Validator.check_schema(contract_kind.spec_schema)
        Draft202012Validator.check_schema(contract_kind.outputs_schema)

    def test_outputs_schema_declares_its_outputs(self, contract_kind: ResourceKind) -> None:
        """outputs_schema lists its outputs, so the engine can reject references to unknown ones."""
        assert contract_kind.outputs_schema.get("properties"), "outputs_schema has no properties"

    def test_stable_outputs_name_declared_outputs_and_fields(self, contract_kind: ResourceKind) -> None:
        """stable_outputs and output_sources name outputs of outputs_schema and fields of spec_schema."""
        outputs = set(contract_kind.outputs_schema.get("properties") or {})
        fields = set(contract_kind.spec_schema.get("properties") or {})
        unknown = sorted(set(contract_kind.stable_outputs) - outputs - {"id"})
        unknown += sorted(set(contract_kind.output_sources) - outputs)
        assert unknown == [], f"stable_outputs/output_sources name outputs outputs_schema lacks: {unknown}"
        sources = sorted({f for names in contract_kind.output_sources.values() for f in names} - fields)
        assert sources == [], f"output_sources name spec fields spec_schema lacks: {sources}"

    def test_valid_spec_passes_schema_and_checks(self, contract_kind: ResourceKind, contract_mission_dir: Path) -> None:
        """The documented example spec raises no problem in the schema or the kind's check()."""
        assert spec_problems(contract_kind, self.valid_spec, contract_mission_dir) == []

    def test_invalid_spec_is_rejected_with_its_message(
        self, contract_kind: ResourceKind, contract_mission_dir: Path, invalid_case: tuple[Any, ...]
    ) -> None:
        """A spec the documentation rejects is rejected, with the expected message (and path)."""
        spec, fragment, *path = invalid_case
        problems = spec_problems(contract_kind, spec, contract_mission_dir)
        assert problems, f"accepted a spec that should fail with {fragment!r}: {spec!r}"
        matching = [p for p in problems if fragment in p[1]]
        assert matching, f"no message contains {fragment!r}; got {[m for _, m in problems]}"
        if path:
            assert tuple(path[0]) in [p[0] for p in matching], f"expected at path {path[0]}, got {matching}"

    def test_irreversibility_is_declared_for_every_action(
        self, contract_kind: ResourceKind, contract_mission_dir: Path
    ) -> None:
        """irreversibility() answers every action offline; a mark says until when, or why."""
        ctx = CheckContext(today=date.today(), mission_dir=contract_mission_dir, address="it")
        record = Record("it", self.kind, "1", "ready", dict(self.valid_spec), {}, {}, {}, "key", 0.0)
        for action, spec, recorded in (
            ("create", self.valid_spec, None),
            ("update", self.valid_spec, record),
            ("replace", self.valid_spec, record),
            ("delete", None, record),
        ):
            declared = contract_kind.irreversibility(action, spec, recorded, ctx)
            assert isinstance(declared, Irreversibility), f"{action}: not an Irreversibility: {declared!r}"
            if declared.level == Reversibility.CANCELLABLE:
                assert declared.until, f"{action}: cancellable, but until when is not said"
            if declared.level != Reversibility.REVERSIBLE:
                assert declared.reason, f"{action}: {declared.level} without a reason for the plan"

    # -- operations against the simulator ---------------------------------------------------------
    def test_create_read_delete_round_trip(self, ops: Operations, contract_sandbox: Running) -> None:
        """create makes exactly one object that read finds; delete removes it and read says gone."""
        before = self.objects(contract_sandbox)
        record = ops.create(self.valid(ops))
        assert record.status == "ready", f"create ended {record.status}: {ops.read(record)}"
        assert record.remote_id, "create returned no remote_id"
        assert self.objects(contract_sandbox) == before + 1
        found = ops.read(record)
        assert found is not None and found.remote_id == record.remote_id
        if ops.kind.delete_mode != "delete":
            return
        ops.delete(record)
        assert ops.read(record) is None, "read still finds the object after delete"
        assert self.objects(contract_sandbox) == before
        ops.delete(record)  # deleting what is gone is done, not an error

    def test_estimate_is_unknown_or_says_its_basis(self, ops: Operations) -> None:
        """estimate_cost is None (cost unknown) or a Cost that says what it is computed from
        (``Cost.free`` for work that bills nothing).

        With ``prices`` (the settings a kind's estimate reads, when it has them), it is a Cost.
        """
        costs = [ops.estimate_cost(self.valid(ops))]
        if self.prices is not None:
            costs.append(ops.estimate_cost(self.valid(ops), prices=dict(self.prices)))
            assert costs[-1] is not None, f"no estimate with prices {dict(self.prices)}"
        for cost in costs:
            if cost is None:
                continue
            assert isinstance(cost, Cost), f"estimate_cost returned {cost!r}, not a Cost"
            assert cost.amount >= 0 and cost.basis, f"{cost!r}: an amount of 0 or more and its basis"
            assert cost.currency or cost.is_free, f"{cost!r}: a currency (none only for Cost.free)"
            assert isinstance(cost.confidence, Confidence) and cost.occurrences >= 1, repr(cost)

    def test_outputs_match_outputs_schema(self, ops: Operations) -> None:
        """The outputs of a ready object validate against the declared outputs_schema."""
        record = ops.create(self.valid(ops))
        errors = [e.message for e in Draft202012Validator(ops.kind.outputs_schema).iter_errors(record.outputs)]
        assert errors == [], f"outputs {record.outputs} do not match outputs_schema: {errors}"

    def test_observed_matches_the_applied_spec(self, ops: Operations) -> None:
        """read reports the applied values, so a plan right after apply shows no drift."""
        record = ops.create(self.valid(ops))
        found = ops.read(record)
        assert found is not None
        drift = {
            k: (v, self.valid(ops)[k])
            for k, v in (found.observed or {}).items()
            if k in self.valid(ops) and v != self.valid(ops)[k]
        }
        assert drift == {}, f"observed differs from the applied spec (observed, applied): {drift}"

    def test_adopt_finds_the_object_created_before_a_crash(self, ops: Operations, contract_sandbox: Running) -> None:
        """After a create whose answer was lost, adopt with the same key finds that object, not a new one."""
        key = str(uuid.uuid4())
        before = self.objects(contract_sandbox)
        created = ops.submit(self.valid(ops), key)
        if not self.supports_adopt:
            with pytest.raises(AdoptError):
                ops.adopt(self.valid(ops), key)
            return
        adopted = ops.adopt(self.valid(ops), key)
        assert adopted is not None, "adopt found nothing for the key of an object it created"
        assert adopted.remote_id == created.remote_id
        assert self.objects(contract_sandbox) == before + 1

    def test_adopt_without_a_create_finds_nothing(self, ops: Operations) -> None:
        """adopt with a key no create used returns None (or AdoptError), never someone else's object."""
        ops.create(self.valid(ops))  # another object exists; adopt must not take it
        try:
            assert ops.adopt(self.valid(ops), str(uuid.uuid4())) is None
        except AdoptError:
            assert not self.supports_adopt, "adopt raised AdoptError although supports_adopt is True"

    @pytest.mark.parametrize(
        "status, error, retry_after",
        [(429, RateLimited, 7), (503, TransientError, 3)],
        ids=["429-rate-limited", "503-unavailable"],
    )
    def test_service_faults_surface_as_retryable_errors(
        self, ops: Operations, contract_sandbox: Running, status: int, error: type[TransientError], retry_after: int
    ) -> None:
        """429 and 503 answers raise RateLimited / TransientError carrying the server's Retry-After."""
        before = self.objects(contract_sandbox)
        contract_sandbox.simulator.faults.replace([FaultRule(fault="status", status=status, retry_after=retry_after)])
        with pytest.raises(error) as caught:
            ops.submit(self.valid(ops))
        raised: TransientError = caught.value
        assert raised.retry_after == retry_after, (
            f"{type(raised).__name__}.retry_after is {raised.retry_after!r}; the server sent Retry-After: {retry_after}"
        )
        assert raised.status == status, f"status is {raised.status!r}, the server answered {status}"
        contract_sandbox.simulator.faults.replace([])
        assert self.objects(contract_sandbox) == before, "an object was created despite the error"

    def test_simulator_answers_malformed_requests_without_a_server_error(
        self, ops: Operations, contract_sandbox: Running
    ) -> None:
        """Every route answers garbage bodies and unknown ids with a 4xx, never a 5xx or a trace.

        Sent without credentials, and again with the provider's own authenticated HTTP client
        when ``connect`` returns a ``skyform.http.ServiceClient``.
        """
        from ..http import ServiceClient
        from .probes import server_errors

        found = server_errors(contract_sandbox)
        if isinstance(ops.client, ServiceClient):
            found += server_errors(contract_sandbox, ops.client.http)
        assert found == [], "simulator crashed on bad input:\n" + "\n".join(found)

    def test_update_changes_the_object_in_place(self, ops: Operations) -> None:
        """update_spec's changes are planned as an update and show in read afterwards."""
        if self.update_spec is None:
            pytest.skip("no update_spec declared")
        update = {**self.update_spec, **ops.prepared}
        record = ops.create(self.valid(ops))
        plan = ops.kind.plan_change(changes_between(self.valid(ops), update), record)
        assert plan.action == "update", f"update_spec should be an in-place update, planned {plan}"
        updated = ops.update(record, update)
        assert updated.remote_id == record.remote_id
        # what the plan shows dependents during an update must hold afterwards
        kept = ops.kind.kept_outputs(record.outputs, changes_between(record.spec, update))
        moved = {
            k: (v, updated.outputs[k]) for k, v in kept.items() if k in updated.outputs and updated.outputs[k] != v
        }
        assert moved == {}, f"the update changed outputs the kind declares stable (before, after): {moved}"
        found = ops.read(updated)
        assert found is not None
        changed = {k: v for k, v in update.items() if self.valid(ops).get(k) != v}
        assert {k: (found.observed or {}).get(k) for k in changed} == changed

    # -- through the CLI ---------------------------------------------------------------------------
    def test_reapply_through_the_cli_is_a_noop(self, contract_provider: Provider, tmp_path: Path) -> None:
        """apply --sandbox, then plan --sandbox shows no changes, and nothing was created twice."""
        from .runner import cli_available, run_cli

        if not cli_available():
            pytest.skip("the skyform CLI is not available")
        from .plugin import write_mission_files

        resources = self.cli_resources(contract_provider.name)
        mission = write_mission_files(tmp_path / "mission", {"resources": resources}, files=dict(self.files))
        plugins = [] if isinstance(self.provider, str) else [contract_provider]
        env = {"SKYFORM_SANDBOX_CLOCK": str(self.clock_factor)}
        first = run_cli("apply", "--sandbox", "--auto-approve", str(mission), providers=plugins, env=env)
        assert first.exit_code == 0, first.output
        second = run_cli("plan", "--sandbox", "--detailed-exitcode", str(mission), providers=plugins, env=env)
        assert second.exit_code == 0, f"re-plan after apply is not a no-op:\n{second.output}"
        objects = run_cli("sandbox", "objects", "--json", str(mission), providers=plugins, env=env)
        assert objects.exit_code == 0, objects.output
        counts = objects.json()["objects"].get(contract_provider.name, {})
        expected = sum(1 for r in resources.values() if r["type"].startswith(f"{contract_provider.name}."))
        assert sum(counts.values()) == expected, f"expected {expected} object(s) after two runs, found {counts}"
