"""iTwin Reality Modeling: Bentley's own SDK (reality_apis 1.4.0) drives the simulator unchanged.

The SDK is not on PyPI: ``pip install ../shared/peers/reality_apis-1.4.0-py3-none-any.whl``
(README.md, Tests). It hard-codes ``https://`` and Bentley's identity service, so the test
gives it a token factory that asks the server's own token endpoint and, for the simulator
only, a session adapter that sends its ``https://`` requests over plain HTTP to 127.0.0.1.
Every answer is also checked against the response schemas of the seed page
(``itwin_response_schemas.json``, the page's component schemas with OpenAPI's
``nullable`` written as JSON Schema). A real service needs ``SKYFORM_FIDELITY_ITWIN_URL``
(e.g. ``https://api.bentley.com/contextcapture``), ``SKYFORM_FIDELITY_ITWIN_TOKEN`` (a bearer
token), ``SKYFORM_FIDELITY_ITWIN_WORKSPACE`` and ``SKYFORM_FIDELITY_ITWIN_INPUT`` (a reality
data id); jobs are submitted there only with ``SKYFORM_FIDELITY_ITWIN_SUBMIT=1`` (it costs).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from fidelity_support import Server, real_server
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from skyform.sandbox.clock import SimClock
from skyform.sandbox.faults import Faults
from skyform.sandbox.host import SimulatorHost
from skyform.sandbox.simulator import SimulatorOptions
from skyform_itwin.simulator import ItwinSimulator
from skyform_itwin.simulator.server import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SANDBOX_WORKSPACE

ccs = pytest.importorskip(
    "reality_apis.CCS.context_capture_service",
    reason="Bentley's reality_apis SDK is not installed: "
    "pip install ../shared/peers/reality_apis-1.4.0-py3-none-any.whl",
)
from reality_apis.CCS.ccs_utils import (  # noqa: E402
    CCJobCostParameters,
    CCJobQuality,
    CCJobSettings,
    CCJobType,
)
from reality_apis.utils import JobState  # noqa: E402

INPUT_ID = "58e0c0ca-f730-4e5b-808d-1c8cacacb4d4"
SCHEMAS = json.loads((Path(__file__).with_name("itwin_response_schemas.json")).read_text(encoding="utf-8"))
_REGISTRY = Registry().with_resource("seed", Resource.from_contents(SCHEMAS, default_specification=DRAFT202012))


def schema_errors(name: str, body: Any) -> list[str]:
    """What in ``body`` breaks the seed's component schema ``name``."""
    validator = Draft202012Validator({"$ref": f"seed#/components/schemas/{name}"}, registry=_REGISTRY)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]


class PlainHTTP(requests.adapters.HTTPAdapter):
    """The SDK's ``https://`` requests sent as plain HTTP (the simulator listens on 127.0.0.1)."""

    def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:  # type: ignore[override]
        request.url = "http://" + str(request.url).removeprefix("https://")
        return super().send(request, **kw)


class TokenFactory:
    """The SDK's token factory interface (get_service_url, get_token) for the server under test."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def get_service_url(self) -> str:
        return self.server.base_url.split("://", 1)[1].removesuffix("/contextcapture")

    def get_token(self) -> str:
        if self.server.kind == "real":
            return f"Bearer {self.server.token}"
        answer = httpx.post(
            self.server.extra["token_url"],
            data={
                "grant_type": "client_credentials",
                "client_id": SANDBOX_CLIENT_ID,
                "client_secret": SANDBOX_CLIENT_SECRET,
                "scope": "itwin-platform",
            },
        )
        return f"Bearer {answer.json()['access_token']}"


@pytest.fixture(scope="module", params=["simulator", "real"])
def itwin(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The ContextCapture service: the simulator, or the one of ``SKYFORM_FIDELITY_ITWIN_URL``."""
    if request.param == "real":
        url, token = real_server("ITWIN")
        workspace, input_id = (os.environ.get(f"SKYFORM_FIDELITY_ITWIN_{k}") for k in ("WORKSPACE", "INPUT"))
        if not (token and workspace and input_id):
            pytest.skip("a real iTwin needs SKYFORM_FIDELITY_ITWIN_TOKEN, _WORKSPACE and _INPUT as well")
        yield Server(
            "real",
            url,
            token,
            extra={
                "workspace": workspace,
                "input": input_id,
                "submit": os.environ.get("SKYFORM_FIDELITY_ITWIN_SUBMIT") == "1",
            },
        )
        return
    sim = ItwinSimulator(SimulatorOptions(clock=SimClock(36000.0), faults=Faults.load(None)))
    host = SimulatorHost()
    running = host.start(sim)
    try:
        settings = running.settings()
        yield Server(
            "simulator",
            settings["url"],
            None,
            extra={
                "sim": sim,
                "token_url": settings["token_url"],
                "workspace": SANDBOX_WORKSPACE,
                "input": INPUT_ID,
                "submit": True,
            },
        )
    finally:
        host.stop()


@pytest.fixture
def service(itwin: Server) -> Any:
    """Bentley's ContextCaptureService, unchanged, talking to the server under test."""
    client = ccs.ContextCaptureService(TokenFactory(itwin))
    if itwin.kind == "simulator":
        client._session.mount("https://", PlainHTTP())
    return client


@pytest.fixture
def raw(itwin: Server) -> Iterator[httpx.Client]:
    """Plain HTTP calls with the SDK's headers, to look at the answers themselves."""
    headers = {
        "Authorization": TokenFactory(itwin).get_token(),
        "Accept": "application/vnd.bentley.itwin-platform.v1+json",
    }
    with httpx.Client(base_url=itwin.base_url, headers=headers, timeout=30) as client:
        yield client


def sdk_settings(itwin: Server) -> CCJobSettings:
    settings = CCJobSettings()
    settings.inputs = [itwin.extra["input"]]
    settings.outputs.threeMX = "3MX"
    settings.outputs.cesium_3D_tiles = "Cesium 3D Tiles"
    settings.mesh_quality = CCJobQuality.MEDIUM
    settings.engines = 2
    settings.cache_settings.create_cache = True  # the SDK sends it as the string "True"
    return settings


def test_sdk_creates_estimates_and_reads_a_job(itwin: Server, service: Any, raw: httpx.Client) -> None:
    created = service.create_job(CCJobType.FULL, sdk_settings(itwin), "fidelity sdk job", itwin.extra["workspace"])
    assert not created.is_error(), created.error
    job_id = created.value
    try:
        # the SDK sends gigaPixels and megaPoints as strings ("2.5"): the service takes them
        cost = service.get_job_estimated_cost(job_id, CCJobCostParameters(2.5, 1.5, CCJobQuality.EXTRA))
        assert not cost.is_error(), cost.error
        assert isinstance(cost.value, float) and cost.value > 0
        props = service.get_job_properties(job_id)
        assert not props.is_error(), props.error
        job = props.value
        assert job.job_state == JobState.UNSUBMITTED and job.job_type == CCJobType.FULL
        assert job.cost_estimation_parameters.giga_pixels == 2.5 and job.estimated_cost == cost.value
        assert job.job_settings.mesh_quality == CCJobQuality.MEDIUM and job.job_settings.engines == 2
        answer = raw.get(f"/jobs/{job_id}").json()
        assert schema_errors("job-response", answer) == []
        assert answer["job"]["costEstimationParameters"] == {
            "gigaPixels": 2.5,
            "megaPoints": 1.5,
            "meshQuality": "Extra",
        }
        assert answer["job"]["jobSettings"]["cacheSettings"] == {"createCache": True}
    finally:
        deleted = service.delete_job(job_id)
        assert not deleted.is_error(), deleted.error
    assert raw.get(f"/jobs/{job_id}").status_code == 404


def test_sdk_runs_a_job_to_success_and_parses_every_field(itwin: Server, service: Any, raw: httpx.Client) -> None:
    if not itwin.extra["submit"]:
        pytest.skip("submitting a job on the real service costs: set SKYFORM_FIDELITY_ITWIN_SUBMIT=1")
    job_id = service.create_job(CCJobType.FULL, sdk_settings(itwin), "fidelity sdk run", itwin.extra["workspace"]).value
    assert not service.submit_job(job_id).is_error()
    deadline = time.monotonic() + (60 if itwin.kind == "simulator" else 6 * 3600)  # a hang guard
    while True:
        progress = service.get_job_progress(job_id)
        assert not progress.is_error(), progress.error
        if progress.value.state in (JobState.SUCCESS, JobState.FAILED, JobState.CANCELLED):
            break
        assert time.monotonic() < deadline, f"job {job_id} still {progress.value}"
        time.sleep(0.05 if itwin.kind == "simulator" else 60)
    assert progress.value.state == JobState.SUCCESS and progress.value.progress == 100
    props = service.get_job_properties(job_id)  # float(estimatedUnits): a null used to crash it
    assert not props.is_error(), props.error
    job = props.value
    assert job.job_state == JobState.SUCCESS and isinstance(job.estimated_units, float)
    assert job.job_date_time.ended_date_time and job.job_settings.outputs.threeMX not in ("", "3MX", None)
    answer = raw.get(f"/jobs/{job_id}").json()
    assert schema_errors("job-response", answer) == []
    execution = answer["job"]["executionInformation"]
    assert isinstance(execution["estimatedUnits"], (int, float)) and not isinstance(execution["estimatedUnits"], bool)
    deleted = service.delete_job(job_id)  # a submitted job cannot be deleted
    assert deleted.is_error() and deleted.error.startswith("code 422")


def test_sdk_cancels_an_active_job(itwin: Server, service: Any, raw: httpx.Client, monkeypatch) -> None:
    if not itwin.extra["submit"]:
        pytest.skip("submitting a job on the real service costs: set SKYFORM_FIDELITY_ITWIN_SUBMIT=1")
    if "sim" in itwin.extra:  # real time: the job stays active long enough to cancel it
        monkeypatch.setattr(itwin.extra["sim"].clock, "factor", 1.0)
    job_id = service.create_job(CCJobType.FULL, sdk_settings(itwin), "fidelity cancel", itwin.extra["workspace"]).value
    assert not service.submit_job(job_id).is_error()
    assert not service.cancel_job(job_id).is_error()
    answer = raw.get(f"/jobs/{job_id}").json()
    assert schema_errors("job-response", answer) == []
    assert service.get_job_properties(job_id).value.job_state == JobState.CANCELLED
    assert isinstance(answer["job"]["executionInformation"]["estimatedUnits"], (int, float))


def test_errors_have_the_documented_body(itwin: Server, service: Any, raw: httpx.Client) -> None:
    missing = raw.get("/jobs/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and schema_errors("ErrorResponse", missing.json()) == []
    bad = raw.post("/jobs", json={"type": "Full", "name": "x"})
    assert bad.status_code == 422 and schema_errors("DetailedErrorResponse", bad.json()) == []
    anonymous = httpx.get(itwin.base_url + "/jobs/x", timeout=30)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "HeaderNotFound"
    refused = service.get_job_estimated_cost(
        "00000000-0000-0000-0000-000000000000", CCJobCostParameters(1, 1, CCJobQuality.DRAFT)
    )
    assert refused.is_error() and refused.error.startswith("code 404")


def test_every_job_answer_has_the_documented_field_types(itwin: Server, raw: httpx.Client) -> None:
    """Create, PATCH, get and list answers all validate against the seed's Job schemas."""
    body = {
        "type": "Full",
        "name": "fidelity schema",
        "workspaceId": itwin.extra["workspace"],
        "inputs": [{"id": itwin.extra["input"]}],
        "settings": {"quality": "Draft", "outputs": ["OBJ"]},
    }
    created = raw.post("/jobs", json=body)
    assert created.status_code == 201 and schema_errors("job-response", created.json()) == []
    job_id = created.json()["job"]["id"]
    try:
        patched = raw.patch(f"/jobs/{job_id}", json={"costEstimationParameters": {"gigaPixels": 1.5}})
        assert patched.status_code == 200 and schema_errors("job-response", patched.json()) == []
        assert schema_errors("job-response", raw.get(f"/jobs/{job_id}").json()) == []
        listed = raw.get("/jobs", params={"$top": "10"}).json()
        assert listed["jobs"] and all(schema_errors("job", job) == [] for job in listed["jobs"])
    finally:
        raw.delete(f"/jobs/{job_id}")
