"""The skyform provider contract suite, run against itwin.Workspace and itwin.Job.

Two contract tests are replaced for itwin.Job, because the contract assumes what the
documented API does not do: a finished job cannot be deleted (the API deletes only jobs
never submitted; delete cancels a running one), and adopt matches jobs created after the
recorded intent time, which the kit's ``Operations.adopt`` does not pass on (it uses "now").
"""

from __future__ import annotations

import time
import uuid

from itwin_support import INPUT_ID, PROVIDER

from skyform.testing.contract import ProviderContract

SANDBOX_WORKSPACE = "6881117d-9fd2-4900-870b-9b721dc90f25"  # the simulator's pre-made workspace


class TestWorkspaceContract(ProviderContract):
    provider = PROVIDER
    kind = "Workspace"
    valid_spec = {"name": "bridge-a12"}
    invalid_specs = [({}, "'name' is a required property"), ({"name": "a", "iTwin": "x"}, "('iTwin' was unexpected)")]
    supports_adopt = False  # the API cannot list workspaces


class TestJobContract(ProviderContract):
    provider = PROVIDER
    kind = "Job"
    clock_factor = 36000.0
    valid_spec = {
        "type": "Full",
        "name": "contract job",
        "workspaceId": SANDBOX_WORKSPACE,
        "inputs": [{"id": INPUT_ID, "description": "photos"}],
        "settings": {"quality": "Draft", "outputs": ["OBJ", "Orthophoto/DSM"]},
        "costEstimationParameters": {"gigaPixels": 0.1, "meshQuality": "Draft"},
    }
    invalid_specs = [
        ({**valid_spec, "type": "Mesh"}, "'Mesh' is not one of ['Full', 'Calibration', 'Reconstruction']", ("type",)),
        ({**valid_spec, "settings": {"quality": "Draft"}}, "'outputs' is a required property", ("settings",)),
    ]

    def test_create_read_delete_round_trip(self, ops, contract_sandbox):
        """A finished job is forgotten (the API keeps it); a running one is cancelled; an unsubmitted one deleted."""
        record = ops.create(self.valid_spec)
        assert record.status == "ready" and record.outputs["state"] == "success"
        ops.delete(record)
        assert ops.read(record).outputs["state"] == "success"
        from skyform.sandbox.faults import FaultRule

        contract_sandbox.simulator.faults.replace([FaultRule(fault="job_stuck", match="Job to cancel")])
        running = ops.submit({**self.valid_spec, "name": "to cancel"})  # stuck: still running at delete
        ops.delete(running)
        assert ops.read(running).outputs["state"] == "cancelled"

    def test_adopt_finds_the_object_created_before_a_crash(self, ops, contract_sandbox):
        """adopt with the original intent time finds the job the lost create made, and no other."""
        key = str(uuid.uuid4())
        intent_at = time.time()
        before = self.objects(contract_sandbox)
        created = ops.submit(self.valid_spec, key)
        adopted = ops.kind.adopt(self.valid_spec, ops.context(key, intent_at))
        assert adopted is not None and adopted.remote_id == created.remote_id
        assert self.objects(contract_sandbox) == before + 1
