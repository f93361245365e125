"""The skyform provider contract suite, run against both dronebundle kinds and the simulator."""

from __future__ import annotations

from skyform.testing.contract import ProviderContract
from skyform_dronebundle import vocabulary as v
from skyform_dronebundle.provider import PROVIDER
from skyform_dronebundle.simulator.app import SANDBOX_PROJECT_ID

JOB = {"project_id": SANDBOX_PROJECT_ID, "name": "Contract deck inspection", "type": "drone_inspection",
       "job_pattern": "one_time", "start_date": "2027-03-01", "latitude": 55.6761, "longitude": 12.5683}


class TestJobContract(ProviderContract):
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
    supports_adopt = False  # no documented list-jobs endpoint: adopt reports a possible orphan


class TestProjectContract(ProviderContract):
    provider = PROVIDER
    kind = "Project"
    valid_spec = {"name": "Contract bridge", "description": "contract suite", "status": "planned"}
    invalid_specs = [({"name": ""}, v.NAME_LENGTH, ("name",)),
                     ({"name": "p", "status": "other"}, v.OTHER_REASON_REQUIRED, ("status",))]
    update_spec = {"name": "Contract bridge", "description": "contract suite", "status": "in_progress"}
    supports_adopt = False  # a name match is reported, never taken
