"""The simulated node behaves like NodeODM 2.2.4 as observed (REFERENCE.md), checked over HTTP.

Part of it is driven with pyodm 1.5.13, OpenDroneMap's own client, as a conformance check.
"""

from __future__ import annotations

import io
import json
import uuid as uuidlib
import zipfile
from pathlib import Path

import httpx
import pytest
from nodeodm_support import images, shift
from pyodm import Node
from pyodm.exceptions import NodeResponseError

TOKEN_ERROR = {"error": "Invalid authentication token: token does not match."}


class Api:
    """Raw calls with the token as query parameter."""

    def __init__(self, running):
        self.base = running.base_url
        self.params = {"token": running.settings()["token"]}

    def get(self, path, **params):
        return httpx.get(self.base + path, params={**self.params, **params})

    def post(self, path, **kw):
        return httpx.post(self.base + path, params=self.params, **kw)

    def new_task(self, mission, uuid=None, **fields):
        headers = {"set-uuid": uuid} if uuid else {}
        files = [("images", (Path(p).name, Path(p).read_bytes())) for p in images(mission)]
        return self.post("/task/new", data=fields, files=files, headers=headers).json()

    def status(self, uuid):
        info = self.get(f"/task/{uuid}/info").json()
        return info["status"]["code"], info["progress"]


def test_pyodm_drives_the_simulator_end_to_end(node, mission, tmp_path):
    """pyodm's create_task (chunked, set-uuid), info, output and download_assets work unchanged."""
    _sim, running = node
    port = int(running.base_url.rsplit(":", 1)[1])
    n = Node("127.0.0.1", port, running.settings()["token"])
    assert n.info().max_parallel_tasks == 2 and n.info().engine == "odm"
    assert {o.name for o in n.options()} >= {"dsm", "dtm", "orthophoto-resolution", "pc-quality", "feature-quality"}
    uuid = str(uuidlib.uuid4())
    task = n.create_task(images(mission), {"dsm": True}, name="pyodm", task_uuid=uuid)
    assert task.uuid == uuid
    task.wait_for_completion(interval=0.05)
    out = task.download_assets(str(tmp_path / "assets"))
    assert (Path(out) / "odm_dem" / "dsm.tif").is_file()
    assert task.output()[-2:] == ["Postprocessing: done (•̀ᴗ•́)و!", "Compressing all.zip\n"]
    with pytest.raises(NodeResponseError, match=r'\[\{"name":"dsm","error":"Cannot convert maybe to boolean"\}\]'):
        n.create_task(images(mission), {"dsm": "maybe"})


def test_errors_are_http_200_with_an_error_key_and_token_is_a_query_parameter(node):
    """Bad token, unknown uuid, bad asset: all HTTP 200; a token header is not accepted."""
    _sim, running = node
    api = Api(running)
    r = httpx.get(running.base_url + "/info", headers={"token": api.params["token"]})
    assert (r.status_code, r.json()) == (200, TOKEN_ERROR)
    assert httpx.get(running.base_url + "/info", params={"token": "nope"}).json() == TOKEN_ERROR
    unknown = str(uuidlib.uuid4())
    r = api.get(f"/task/{unknown}/info")
    assert (r.status_code, r.json()) == (200, {"error": f"{unknown} not found"})
    assert api.post("/task/cancel", data={"uuid": unknown}).json() == {
        "success": False,
        "error": f"{unknown} not found",
    }
    assert api.get("/auth/info").json()["loginUrl"] is None
    assert api.post("/auth/login").json() == {"error": "Not available"}
    r = api.get("/nothing/here")
    assert r.status_code == 404 and "Cannot GET /nothing/here" in r.text


def test_new_task_is_running_while_initialising_then_queued_then_running(start_node, mission):
    """The observed quirk: 20 during init, 10 while waiting for a slot, 20 when processing."""
    # a clock this slow stands still while the test runs (10 real seconds of a loaded machine
    # are 0.1 simulated seconds); time moves only when shift() moves it
    sim, running = start_node(factor=0.01, max_parallel_tasks=1)
    api = Api(running)
    first = api.new_task(mission, name="first")["uuid"]
    second = api.new_task(mission, name="second")["uuid"]
    assert api.status(first) == (20, 0.0) and api.status(second) == (20, 0.0)
    shift(sim, 1200)  # 12 simulated seconds: initialisation (10.6 s) is over
    code, progress = api.status(first)
    assert code == 20 and 0 < progress < 100
    assert api.status(second) == (10, 0.0)
    shift(sim, 20000)  # 200 simulated seconds: the first task is done; the second takes the slot
    assert api.status(first) == (40, 100.0)
    assert api.status(second)[0] == 20
    info = api.get("/info").json()
    assert info["taskQueueCount"] == 1 and info["maxParallelTasks"] == 1


def test_set_uuid_rules(node, mission):
    """A committed uuid cannot be reused; an uncommitted one may be initialised again; junk is refused."""
    sim, running = node
    api = Api(running)
    uuid = str(uuidlib.uuid4())
    assert api.post("/task/new/init", data={"name": "x"}, headers={"set-uuid": uuid}).json() == {"uuid": uuid}
    assert api.post("/task/new/init", data={"name": "x"}, headers={"set-uuid": uuid}).json() == {"uuid": uuid}
    assert api.get(f"/task/{uuid}/info").json() == {"error": f"{uuid} not found"}  # invisible before commit
    img = images(mission)[0]
    for _ in range(2):  # the same name twice is kept twice, as a.JPG and a_.JPG
        assert api.post(f"/task/new/upload/{uuid}", files={"images": ("a.JPG", Path(img).read_bytes())}).json() == {
            "success": True
        }
    assert api.post(f"/task/new/commit/{uuid}").json() == {"uuid": uuid}
    assert api.get(f"/task/{uuid}/info").json()["imagesCount"] == 2
    assert api.post("/task/new/init", headers={"set-uuid": uuid}).json() == {"error": f"Invalid set-uuid: {uuid}"}
    assert api.new_task(mission, uuid=uuid) == {"error": f"Invalid set-uuid: {uuid}"}
    assert api.new_task(mission, uuid="not-a-uuid") == {"error": "Invalid set-uuid: not-a-uuid"}
    assert sim.objects() == {"task": 1, "upload": 0}


def test_options_validation_matches_nodeodm(node, mission):
    """Invalid values: JSON list in error; unknown names dropped; object instead of list ignored."""
    _sim, running = node
    api = Api(running)
    bad = [
        {"name": "feature-quality", "value": "foo"},
        {"name": "mesh-octree-depth", "value": 99},
        {"name": "dsm", "value": "maybe"},
    ]
    body = api.new_task(mission, options=json.dumps(bad))
    assert json.loads(body["error"]) == [  # in ODM's definition order
        {"name": "feature-quality", "error": "Invalid value foo (not in enum)"},
        {"name": "mesh-octree-depth", "error": "Invalid value 99 (out of range)"},
        {"name": "dsm", "error": "Cannot convert maybe to boolean"},
    ]
    uuid = api.new_task(
        mission,
        options=json.dumps(
            [{"name": "nonsense", "value": 1}, {"name": "dsm", "value": "1"}, {"name": "crop", "value": "2.5"}]
        ),
    )["uuid"]
    assert api.get(f"/task/{uuid}/info").json()["options"] == [
        {"name": "crop", "value": 2.5},
        {"name": "dsm", "value": True},
        {"name": "pc-ept", "value": True},
        {"name": "cog", "value": True},
        {"name": "gltf", "value": True},
    ]
    uuid = api.new_task(mission, options=json.dumps({"dsm": True}), skipPostProcessing="true")["uuid"]
    assert api.get(f"/task/{uuid}/info").json()["options"] == []
    assert api.new_task(mission, options="{nope")["error"].startswith("Unexpected token n in JSON")
    assert api.post("/task/new", data={"name": "x"}).json() == {"error": "Need at least 1 file or a zip file url."}


def test_task_info_name_rules(node, mission):
    """No name: no name key (pyodm's KeyError); empty name: 'Task of <date>'."""
    _sim, running = node
    api = Api(running)
    nameless = api.new_task(mission)["uuid"]
    assert "name" not in api.get(f"/task/{nameless}/info").json()
    empty = api.new_task(mission, name="")["uuid"]
    assert api.get(f"/task/{empty}/info").json()["name"].startswith("Task of ")


def test_cancel_restart_remove_semantics(node, mission):
    """Cancel is idempotent and flips COMPLETED to CANCELED (zip stays); restart only when ended."""
    sim, running = node
    api = Api(running)
    uuid = api.new_task(mission, name="t", options=json.dumps([{"name": "dsm", "value": True}]))["uuid"]
    sim.clock.factor = 1
    assert api.post("/task/restart", data={"uuid": uuid}).json() == {
        "success": False,
        "error": "Task cannot be restarted",
    }
    assert api.get(f"/task/{uuid}/download/all.zip").json() == {"error": "Asset not ready"}
    sim.clock.factor = 20000
    shift(sim, 1)
    assert api.status(uuid) == (40, 100.0)
    assert api.get(f"/task/{uuid}/download/nothing.zip").json() == {"error": "Invalid asset"}
    assert api.post("/task/cancel", json={"uuid": uuid}).json() == {"success": True}
    assert api.post("/task/cancel", data={"uuid": uuid}).json() == {"success": True}
    assert api.status(uuid)[0] == 50
    archive = zipfile.ZipFile(io.BytesIO(api.get(f"/task/{uuid}/download/all.zip").content))
    assert "odm_dem/dsm.tif" in archive.namelist()
    sim.clock.factor = 1  # keep the restarted run going long enough to look at it
    restart = api.post("/task/restart", data={"uuid": uuid, "options": json.dumps([{"name": "dtm", "value": True}])})
    assert restart.json() == {"success": True}
    assert sim.data["tasks"][uuid]["phase"] == "queued"  # back in the queue (10) ...
    info = api.get(f"/task/{uuid}/info").json()  # ... and picked up at once: a slot is free
    assert info["status"]["code"] == 20 and info["options"] == [
        {"name": "dtm", "value": True},
        {"name": "pc-ept", "value": True},
        {"name": "cog", "value": True},
        {"name": "gltf", "value": True},
    ]  # NodeODM adds its post-processing options again
    output = api.get(f"/task/{uuid}/output").json()  # the previous run's log was cleared
    assert output[0] == "[INFO]    Initializing ODM 3.5.5" and "Postprocessing: done (•̀ᴗ•́)و!" not in output
    assert api.post("/task/remove", data={"uuid": uuid}).json() == {"success": True}
    assert api.get("/task/list").json() == []


def test_all_zip_follows_odm_layout_and_outputs_field(node, mission):
    """Default all.zip holds ODM's folders; the outputs field narrows it; skipPostProcessing drops EPT."""
    sim, running = node
    api = Api(running)
    full = api.new_task(mission, name="full")["uuid"]
    some = api.new_task(
        mission, name="some", outputs=json.dumps(["odm_orthophoto/odm_orthophoto.tif"]), skipPostProcessing="true"
    )["uuid"]
    shift(sim, 1)
    names = zipfile.ZipFile(io.BytesIO(api.get(f"/task/{full}/download/all.zip").content)).namelist()
    assert {
        "odm_orthophoto/odm_orthophoto.tif",
        "odm_georeferencing/odm_georeferenced_model.laz",
        "odm_texturing/odm_textured_model_geo.obj",
        "odm_report/report.pdf",
        "entwine_pointcloud/ept.json",
        "images.json",
    } <= set(names)
    assert "odm_dem/dsm.tif" not in names
    assert zipfile.ZipFile(io.BytesIO(api.get(f"/task/{some}/download/all.zip").content)).namelist() == [
        "odm_orthophoto/odm_orthophoto.tif"
    ]


def test_max_images_one_shot_is_refused(start_node, mission):
    """/task/new with more images than --max_images answers NodeODM's error."""
    _sim, running = start_node(max_images=2)
    assert Api(running).new_task(mission) == {"error": "3 images uploaded, but this node can only process up to 2."}
    assert Api(running).get("/info").json()["maxImages"] == 2


def test_options_catalogue_has_real_names_types_and_domains(node):
    """GET /options lists ODM's options the way NodeODM serializes them."""
    _sim, running = node
    options = {o["name"]: o for o in Api(running).get("/options").json()}
    assert len(options) == 80  # ODM 3.5.5's 91 arguments less the 11 NodeODM does not publish
    assert options["dsm"] == {
        "name": "dsm",
        "type": "bool",
        "value": "false",
        "domain": "",
        "help": options["dsm"]["help"],
    }
    assert options["pc-quality"]["type"] == "enum" and options["pc-quality"]["domain"] == [
        "ultra",
        "high",
        "medium",
        "low",
        "lowest",
    ]
    assert options["mesh-octree-depth"]["domain"] == "integer: 1 <= x <= 14"
    assert options["orthophoto-resolution"] == {
        **options["orthophoto-resolution"],
        "type": "float",
        "value": "5",
        "domain": "float > 0.0",
    }
    assert options["boundary"]["domain"] == "json"


def test_webhook_is_called_with_task_info_and_retried_until_http_200(start_node, mission):
    """The run's end POSTs TaskInfo + images to the webhook; a non-200 answer is retried."""
    import http.server
    import threading
    import time

    received: list[dict] = []
    answers = [500, 200]

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(answers.pop(0) if answers else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sim, running = start_node()
        api = Api(running)
        uuid = api.new_task(mission, name="hooked", webhook=f"http://127.0.0.1:{server.server_port}/done")["uuid"]
        deadline = time.time() + 5
        while len(received) < 2 and time.time() < deadline:
            api.get(f"/task/{uuid}/info")  # the simulator notices the end on a request
            time.sleep(0.05)
    finally:
        server.shutdown()
    assert [r["uuid"] for r in received] == [uuid, uuid]
    assert received[0]["status"] == {"code": 40} and received[0]["images"] == [
        "DJI_0000.JPG",
        "DJI_0001.JPG",
        "DJI_0002.JPG",
    ]
    assert [a["status"] for a in sim.webhook_log] == [500, 200]


def test_chunked_upload_errors(node, mission):
    """Upload or commit for a uuid never initialised, or a commit with no files, answer NodeODM's errors."""
    _sim, running = node
    api = Api(running)
    stranger = str(uuidlib.uuid4())
    img = Path(images(mission)[0])
    assert api.post(f"/task/new/upload/{stranger}", files={"images": (img.name, img.read_bytes())}).json() == {
        "error": "Invalid uuid (not found)"
    }
    assert api.post(f"/task/new/commit/{stranger}").json() == {"error": "Invalid uuid (not found)"}
    empty = api.post("/task/new/init", data={"name": "empty"}).json()["uuid"]
    assert api.post(f"/task/new/upload/{empty}").json() == {"error": "Need at least 1 file.", "noRetry": True}
    assert api.post(f"/task/new/commit/{empty}").json() == {"error": "Need at least 1 file."}


def test_zipurl_task_fails_during_initialisation_in_the_sandbox(node):
    """The sandbox never downloads: a zipurl task fails at init (and, like NodeODM, calls no webhook)."""
    sim, running = node
    api = Api(running)
    uuid = api.post("/task/new", data={"zipurl": "https://example.com/a.zip", "name": "z"}).json()["uuid"]
    shift(sim, 1)
    info = api.get(f"/task/{uuid}/info").json()
    assert info["status"] == {
        "code": 30,
        "errorMessage": "Cannot download zipurl: the skyform sandbox does not fetch remote archives",
    }
