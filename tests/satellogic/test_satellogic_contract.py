"""The engine's provider contract suite, run against satellogic.Task and satellogic.Products."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from satellogic_support import aoi_spec, poi_spec

from skyform.providers import OperationContext
from skyform.sandbox.clock import SimClock
from skyform.sandbox.host import Running
from skyform.testing.contract import ProviderContract
from skyform.testing.operations import Operations
from skyform_satellogic.provider import PROVIDER


@pytest.fixture(autouse=True)
def _sandbox_clock_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process CLI runs: make SimClock() honour the SKYFORM_SANDBOX_CLOCK the runner sets.

    SimClock's default factor is read once at import, so the runner's ``env`` does not reach
    it in-process and every CLI contract run would use 600 (a 21 s task); reported upstream.
    """
    monkeypatch.setattr(SimClock.__init__, "__defaults__", (10_000.0,))


class _IntentOperations(Operations):
    """Operations that hand adopt the intent time recorded for the key, as the engine does.

    Satellogic has no idempotency key: adoption matches on what was ordered *after the
    intent was recorded*, so adopt must see the original intent time, not a fresh one.
    """

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.intents: dict[str, float] = {}

    def context(self, key: str | None = None, intent_at: float | None = None) -> OperationContext:
        if key is not None and intent_at is None:
            intent_at = self.intents.get(key)
        ctx = super().context(key, intent_at)
        self.intents.setdefault(ctx.idempotency_key, ctx.intent_at)
        return ctx


class _SatellogicContract(ProviderContract):
    provider = PROVIDER
    # a one-off POI task completes in ~1.3 s: longer than the adoption clock-skew allowance, so
    # the identical tasks earlier tests of the class made are not taken for a crashed create
    clock_factor = 10_000.0

    @pytest.fixture
    def ops(
        self, contract_provider: Any, contract_sandbox: Running, contract_mission_dir: Path
    ) -> Iterator[Operations]:
        contract_sandbox.simulator.faults.replace([])
        operations = _IntentOperations(
            contract_provider,
            self.kind,
            contract_sandbox.settings(),
            contract_mission_dir,
            poll_timeout=self.job_timeout,
        )
        try:
            yield operations
        finally:
            contract_sandbox.simulator.faults.replace([])
            operations.close()


class TestTaskContract(_SatellogicContract):
    kind = "Task"
    valid_spec: Mapping[str, Any] = poi_spec(
        task_name="Contract POI", start="2030-12-23T00:00:00+03:00", end="2031-01-12T00:00:00+03:00", priority=14
    )
    # wait_for is skyform's own: the only change that keeps the (paid) order
    update_spec: Mapping[str, Any] = {**valid_spec, "wait_for": "accepted"}
    invalid_specs = [
        (
            poi_spec(max_captures=2, max_simultaneous_captures=1),
            "must be greater than or equal to max_captures",
            ("max_simultaneous_captures",),
        ),
        (aoi_spec(expected_age="7 days, 00:00:00"), "available for POI tasks only", ("expected_age",)),
        (
            aoi_spec(target={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}),
            "is not closed",
            ("target", "coordinates", 0),
        ),
        (poi_spec(start="2031-01-12T00:00:00Z", end="2030-12-23T00:00:00Z"), "must be after start", ("end",)),
    ]


class TestProductsContract(_SatellogicContract):
    kind = "Products"
    valid_spec: Mapping[str, Any] = {}
    update_spec: Mapping[str, Any] = {"name_contains": "AOI"}
    invalid_specs = [({"name": "x"}, "Additional properties are not allowed")]

    # A data source makes nothing remotely: the object-counting contract tests become these.
    def test_create_read_delete_round_trip(self, ops: Operations, contract_sandbox: Running) -> None:  # type: ignore[override]
        """Reading the products creates nothing; read returns them again; delete only forgets."""
        before = self.objects(contract_sandbox)
        record = ops.create(self.valid_spec)
        assert record.status == "ready" and record.outputs["count"] == 3
        assert self.objects(contract_sandbox) == before
        found = ops.read(record)
        assert found is not None and found.outputs == record.outputs
        ops.delete(record)
        assert self.objects(contract_sandbox) == before

    def test_adopt_finds_the_object_created_before_a_crash(self, ops: Operations, contract_sandbox: Running) -> None:  # type: ignore[override]
        """Nothing to adopt: an interrupted read is simply read again."""
        assert ops.adopt(self.valid_spec, "any-key") is None

    def test_reapply_through_the_cli_is_a_noop(self, contract_provider: Any, tmp_path: Path) -> None:  # type: ignore[override]
        """apply --sandbox then plan --sandbox: no changes, and no remote object was made."""
        from skyform.testing.plugin import write_mission_files
        from skyform.testing.runner import cli_available, run_cli

        if not cli_available():
            pytest.skip("the skyform CLI is not available")
        mission = write_mission_files(
            tmp_path / "mission", {"resources": {"it": {"type": "satellogic.Products", "spec": {}}}}
        )
        env = {"SKYFORM_SANDBOX_CLOCK": str(self.clock_factor)}
        first = run_cli("apply", "--sandbox", "--auto-approve", str(mission), providers=[contract_provider], env=env)
        assert first.exit_code == 0, first.output
        second = run_cli(
            "plan", "--sandbox", "--detailed-exitcode", str(mission), providers=[contract_provider], env=env
        )
        assert second.exit_code == 0, second.output
        objects = run_cli("sandbox", "objects", "--json", str(mission), providers=[contract_provider], env=env)
        assert sum(objects.json()["objects"].get("satellogic", {}).values()) == 0
