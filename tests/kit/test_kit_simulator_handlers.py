"""A simulator composed of handler objects: a route's endpoint may name ``<handler>.<method>``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from werkzeug.routing import Rule
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from skyform.sandbox.simulator import Simulator, json_response


class Jobs:
    """A handler object: it owns its part of the API and reads the simulator's state."""

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator

    def create(self, request: Request) -> Response:
        job_id = str(len(self.simulator.data["jobs"]) + 1)
        self.simulator.data["jobs"][job_id] = {"id": job_id}
        return json_response({"id": job_id}, 201)

    def get(self, request: Request, job_id: str) -> Response:
        return json_response(self.simulator.data["jobs"][job_id])


class ComposedSimulator(Simulator):
    provider = "composed"

    def __init__(self) -> None:
        self.jobs = Jobs(self)
        super().__init__()

    def routes(self) -> Iterable[Rule]:
        return [
            Rule("/jobs", methods=["POST"], endpoint="jobs.create"),
            Rule("/jobs/<job_id>", methods=["GET"], endpoint="jobs.get"),
            Rule("/about", methods=["GET"], endpoint="about"),
        ]

    def initial_data(self) -> dict[str, Any]:
        return {"jobs": {}}

    def about(self, request: Request) -> Response:
        return json_response({"name": "composed"})


def test_dotted_endpoints_reach_the_handler_objects_method() -> None:
    """``jobs.create`` calls ``simulator.jobs.create``; a plain name still calls the simulator's method."""
    client = Client(ComposedSimulator())
    created = client.post("/jobs")
    assert created.status_code == 201
    assert created.get_json() == {"id": "1"}
    assert client.get("/jobs/1").get_json() == {"id": "1"}
    assert client.get("/about").get_json() == {"name": "composed"}


def test_a_handler_failure_is_a_server_error_not_a_trace() -> None:
    """An exception in a handler object's method answers 500 like one in a simulator method."""
    client = Client(ComposedSimulator())
    response = client.get("/jobs/404")  # KeyError inside Jobs.get
    assert response.status_code == 500
    assert "Traceback" not in response.get_data(as_text=True)


class OtherRoutesSimulator(ComposedSimulator):
    provider = "other"

    def routes(self) -> Iterable[Rule]:
        return [Rule("/about", methods=["GET"], endpoint="about"), Rule("/jobs", methods=["POST"], endpoint="about")]


def test_the_url_map_is_compiled_once_per_set_of_routes() -> None:
    """Two simulators with the same routes share one compiled map (starting the sandbox again
    compiles nothing); different routes get their own, and each answers by its own routes."""
    first, second, other = ComposedSimulator(), ComposedSimulator(), OtherRoutesSimulator()
    assert first.url_map is second.url_map
    assert other.url_map is not first.url_map
    assert Client(first).post("/jobs").status_code == 201
    assert Client(other).post("/jobs").get_json() == {"name": "composed"}
    assert Client(second).get("/jobs/1").status_code == 500  # its own state: no job 1 here
