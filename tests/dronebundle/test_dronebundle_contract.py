"""The skyform provider contract suite, run against both dronebundle kinds and the simulator."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from skyform.errors import AdoptError
from skyform.testing.contract import ProviderContract
from skyform.testing.operations import Operations
from skyform_dronebundle import vocabulary as v
from skyform_dronebundle.provider import PROVIDER
from skyform_dronebundle.simulator.server import SANDBOX_PROJECT_ID

JOB = {
    "project_id": SANDBOX_PROJECT_ID,
    "name": "Contract deck inspection",
    "type": "drone_inspection",
    "job_pattern": "one_time",
    "start_date": "2027-03-01",
    "latitude": 55.6761,
    "longitude": 12.5683,
}


class _AdoptAfterCrash:
    """The suite's crash reuses the client that made the object; here a crash is also a new
    process (a new client), which is what adopt cannot see across for DroneBundle."""

    valid_spec: Any
    kind: str

    def test_adopt_finds_the_object_created_before_a_crash(
        self, ops, contract_sandbox, contract_provider, contract_mission_dir
    ) -> None:
        """Within the run that made it, adopt returns the object (a retry after a lost answer);
        from a new process it raises AdoptError naming what to look for; never a second object."""
        key = str(uuid.uuid4())
        before = self.objects(contract_sandbox)  # type: ignore[attr-defined]
        created = ops.submit(self.valid_spec, key)
        adopted = ops.adopt(self.valid_spec, key)
        assert adopted is not None and adopted.remote_id == created.remote_id
        fresh = Operations(contract_provider, self.kind, contract_sandbox.settings(), contract_mission_dir)
        try:
            fresh.intents[key] = ops.intents[key]
            with pytest.raises(AdoptError, match="possible orphan"):
                fresh.adopt(self.valid_spec, key)
        finally:
            fresh.close()
        assert self.objects(contract_sandbox) == before + 1  # type: ignore[attr-defined]


class TestJobContract(_AdoptAfterCrash, ProviderContract):
    provider = PROVIDER
    kind = "Job"
    valid_spec = JOB
    invalid_specs = [
        ({**JOB, "latitude": 91}, v.LATITUDE_RANGE, ("latitude",)),
        ({**JOB, "end_date": "2027-02-01"}, v.END_AFTER_START, ("end_date",)),
        ({**JOB, "status": "other"}, v.OTHER_REASON_REQUIRED, ("status",)),
        ({**JOB, "recurring_interval": 2}, "only applies when job_pattern is recurring", ("recurring_interval",)),
    ]
    update_spec = {**JOB, "name": "Contract deck inspection, north face", "priority": "high", "status": "planned"}
    supports_adopt = False  # no documented list-jobs endpoint: after a crash, a possible orphan


class TestProjectContract(_AdoptAfterCrash, ProviderContract):
    provider = PROVIDER
    kind = "Project"
    valid_spec = {"name": "Contract bridge", "description": "contract suite", "status": "planned"}
    invalid_specs = [
        ({"name": ""}, v.NAME_LENGTH, ("name",)),
        ({"name": "p", "status": "other"}, v.OTHER_REASON_REQUIRED, ("status",)),
    ]
    update_spec = {"name": "Contract bridge", "description": "contract suite", "status": "in_progress"}
    supports_adopt = False  # a name match is reported, never taken
