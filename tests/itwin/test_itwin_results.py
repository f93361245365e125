"""A finished job's results under a flaky network: the download goes on from where it was.

The poll that sees an iTwin job succeed makes many reads (read access per format, the
container listing, one GET per file). Each is retried where it stands on a transient
answer, and a file already complete on disk is not fetched again by the next poll. Before
both, any failed read failed the poll and the next poll started the set over: the faults
campaign (~20% of requests faulted) saw the download fail through four applies.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
from itwin_support import job_spec, poll_until_done, record_for

from skyform.errors import TransientError
from skyform.sandbox.faults import FaultRule
from skyform_itwin.simulator.reality import blob_bytes

OBJ_FILE = "Production/Data/Tile_+000_+000.obj"


def _workspace(sandbox: Any, workspace_kind: Any) -> str:
    return workspace_kind.create({"name": "a12"}, sandbox.ctx(address="resources.ws")).remote_id


def _fail(sandbox: Any, *rules: dict[str, Any]) -> None:
    """Answer 503 (Retry-After 0.05 s) to the matching requests, each rule ``times`` times."""
    sandbox.sim.faults.replace(
        FaultRule.from_dict({"fault": "status", "status": 503, "retry_after": 0.05, **r}) for r in rules
    )


def _assert_complete(done: Any) -> None:
    for fmt, stored in done.outputs["results"].items():
        rid = done.outputs["outputs"][fmt]
        for entry in stored["files"]:
            assert entry["sha256"] == hashlib.sha256(blob_bytes(rid, fmt, entry["name"])).hexdigest()


def test_transient_answers_during_the_download_do_not_fail_the_poll(sandbox, job_kind, workspace_kind):
    """One 503 on a read access, one on a listing, two on a file: the poll that sees success
    still stores every file (each read retried in place)."""
    _fail(
        sandbox,
        {"match": r"/readaccess$", "times": 1},
        {"match": r"^GET /blobs/[^/]+/?$", "times": 1},
        {"match": r"tileset\.json$", "times": 2},
    )
    spec = job_spec(_workspace(sandbox, workspace_kind))
    ctx = sandbox.ctx()
    done = poll_until_done(job_kind, job_kind.create(spec, ctx), spec, ctx)
    assert done.status == "ready"
    assert set(done.outputs["results"]) == {"OBJ", "Cesium 3D Tiles"}
    _assert_complete(done)
    assert [r.fired for r in sandbox.sim.faults.rules] == [1, 1, 2]  # every fault was met, and outlived


def test_a_poll_failed_mid_download_does_not_fetch_the_stored_files_again(sandbox, job_kind, workspace_kind):
    """A file that keeps failing past the in-place retries fails that poll; the next poll
    hashes the file already complete on disk instead of downloading it again."""
    _fail(sandbox, {"match": r"Tile_\+000_\+000\.mtl$", "times": 4})
    spec = job_spec(_workspace(sandbox, workspace_kind))
    ctx = sandbox.ctx()
    last = job_kind.create(spec, ctx)
    with pytest.raises(TransientError):
        while last.status == "running":
            time.sleep(last.poll_after or 0.05)
            last = job_kind.poll(record_for(last, spec, ctx), ctx)
    [obj] = list(ctx.artifacts_dir.glob(f"OBJ/*/{OBJ_FILE}"))
    first = obj.stat()
    done = poll_until_done(job_kind, last, spec, ctx)
    assert done.status == "ready"
    _assert_complete(done)
    again = obj.stat()
    assert (again.st_ino, again.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)  # not written again
    [entry] = [f for f in done.outputs["results"]["OBJ"]["files"] if f["name"] == OBJ_FILE]
    assert entry["path"] == str(obj)
