"""The provider contract suite, run against the example provider and against broken variants."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from skyform_kitdemo.provider import PROVIDER

from skyform.testing.contract import ProviderContract


class TestKitdemoJobContract(ProviderContract):
    """The generated example provider passes the whole contract."""

    provider = PROVIDER
    kind = "Job"
    valid_spec = {"name": "survey-1", "priority": 5, "duration_minutes": 30}
    update_spec = {"name": "survey-1", "priority": 9, "duration_minutes": 30}
    invalid_specs = [
        ({"priority": 5}, "'name' is a required property", ()),
        ({"name": "survey-1", "priority": 11}, "11 is greater than the maximum of 10", ("priority",)),
        ({"name": "survey-1", "colour": "red"}, "Additional properties are not allowed"),
    ]


BROKEN = """
import dataclasses
from skyform.testing.contract import ProviderContract
from skyform_kitdemo.job import JobKind
from skyform_kitdemo.provider import PROVIDER

class Broken(JobKind):
    {body}

class TestBrokenContract(ProviderContract):
    provider = dataclasses.replace(PROVIDER, kinds=(Broken(),))
    kind = "Job"
    valid_spec = {{"name": "survey-1"}}
    invalid_specs = [({{"name": "survey-1", "priority": 0}}, "0 is less than the minimum of 1")]
"""

CASES = {  # broken kind body, the contract test that must fail, its message
    "adopt-forgets": (
        "def adopt(self, spec, ctx):\n        return None",
        "test_adopt_finds_the_object_created_before_a_crash",
        "adopt found nothing",
    ),
    "outputs-undeclared": (
        "outputs_schema = {'type': 'object', 'additionalProperties': False,"
        " 'properties': {'job_id': {'type': 'integer'}}}",
        "test_outputs_match_outputs_schema",
        "do not match outputs_schema",
    ),
    "delete-does-nothing": (
        "def delete(self, record, ctx):\n        pass",
        "test_create_read_delete_round_trip",
        "still finds the object after delete",
    ),
    "schema-too-loose": (
        "spec_schema = {'type': 'object'}",
        "test_invalid_spec_is_rejected_with_its_message",
        "accepted a spec that should fail",
    ),
}


@pytest.mark.slow  # a campaign: a nested pytest over every broken kind
def test_contract_catches_broken_providers(tmp_path: Path) -> None:
    """Each contract test can fail: a kind broken in one way fails exactly the test that pins it."""
    for case, (body, _, _) in CASES.items():
        (tmp_path / f"test_{case.replace('-', '_')}.py").write_text(BROKEN.format(body=body))
    kitdemo_dir = Path(sys.modules["skyform_kitdemo"].__file__).parents[1]
    selected = " or ".join(test for _, test, _ in CASES.values())
    report = tmp_path / "report.xml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
            f"--junitxml={report}",
            "-k",
            selected,
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(kitdemo_dir)},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    failed = {}  # module -> [(test, failure message)]
    for case in ElementTree.parse(report).iter("testcase"):
        failure = case.find("failure")
        if failure is not None:
            module = case.get("classname", "").split(".")[0]
            failed.setdefault(module, []).append((case.get("name", ""), failure.get("message", "")))
    for case, (_, test, message) in CASES.items():
        mine = failed.get(f"test_{case.replace('-', '_')}", [])
        assert len(mine) == 1, (case, mine)
        assert mine[0][0].startswith(test) and message in mine[0][1], (case, mine)


def test_probes_find_a_simulator_that_crashes_on_bad_input() -> None:
    """The malformed-request probes report a handler that fails on a body it did not expect."""
    import httpx
    from skyform_kitdemo.simulator import TOKEN, JobServiceSimulator

    from skyform.sandbox.host import SimulatorHost
    from skyform.sandbox.simulator import SimulatorOptions, json_response
    from skyform.testing.probes import server_errors

    class Fragile(JobServiceSimulator):
        def create_job(self, request):
            return json_response({"name": request.get_json()["name"]}, 201)

    with SimulatorHost() as host, httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        running = host.start(Fragile(SimulatorOptions()))
        assert server_errors(running) == []  # without credentials, the 401 comes first
        found = server_errors(running, client)
    assert found and all(line.startswith("POST /api/v1/jobs ") and "-> 500" in line for line in found)
