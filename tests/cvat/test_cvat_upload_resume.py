"""A transient error in the middle of an image upload costs one chunk, not the whole upload.

The server here loses a request after it has read it (a proxy's 503 after the body went up):
the upload goes on from the offset the server reports, and the bytes sent twice are counted.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from PIL import Image
from werkzeug.wrappers import Request, Response

from skyform.errors import TransientError
from skyform.sandbox.clock import SimClock
from skyform.sandbox.faults import Faults
from skyform.sandbox.host import SimulatorHost
from skyform.sandbox.simulator import SimulatorOptions
from skyform.testing import Operations
from skyform_cvat import tus
from skyform_cvat.media import upload_images
from skyform_cvat.provider import PROVIDER
from skyform_cvat.simulator import CvatSimulator

CHUNK = 128 * 1024


class LossyCvat(CvatSimulator):
    """CVAT that reads, then loses, the data-carrying requests whose numbers are in ``lose``."""

    def __init__(self, options: SimulatorOptions, lose: set[int]) -> None:
        super().__init__(options)
        self.lose, self.seen, self.received = lose, 0, 0

    def dispatch(self, request: Request, environ: dict[str, Any]) -> Response:
        carries_data = "/data" in request.path and (
            request.method == "PATCH" or "Upload-Multiple" in request.headers or bool(request.files)
        )
        if carries_data:
            body = request.get_data()  # read (and cached for the handler), so it counts as sent
            self.received += len(body)
            self.seen += 1
            if self.seen in self.lose:
                return Response(b'{"detail": "upstream connect error"}', 503, {"Retry-After": "0"})
        return super().dispatch(request, environ)


def noise_images(directory, count: int, side: int = 256) -> list[str]:
    """PNGs of random pixels (they do not compress): ~``side * side * 3`` bytes each."""
    directory.mkdir(parents=True)
    names = []
    for i in range(count):
        path = directory / f"noise_{i}.png"
        Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path)
        names.append(f"photos/{path.name}")
    return names


@pytest.fixture
def lossy(tmp_path, monkeypatch):
    monkeypatch.setattr(tus, "CHUNK_SIZE", CHUNK)
    sim = LossyCvat(SimulatorOptions(state_dir=tmp_path / "sim", clock=SimClock(20000.0), faults=Faults()), lose={1, 4})
    with SimulatorHost() as host:
        running = host.start(sim)
        yield (
            sim,
            Operations(
                PROVIDER, "Task", running.settings(), tmp_path / "mission", poll_timeout=20.0, poll_interval=0.01
            ),
        )


def test_a_lost_chunk_is_sent_again_and_nothing_else(lossy, tmp_path) -> None:
    sim, ops = lossy
    names = noise_images(tmp_path / "mission" / "photos", 3)
    image_bytes = sum((tmp_path / "mission" / n).stat().st_size for n in names)
    spec = {"name": "resumed", "labels": [{"name": "car"}], "images": names}
    from cvat_sdk.api_client import models

    task = ops.client.sdk.tasks.create(
        models.TaskWriteRequest(name="resumed", labels=[models.PatchedLabelRequest(name="car")])
    )
    ctx = ops.context()
    for _attempt in range(5):  # what the engine does with a transient error: try again
        try:
            rq_id = upload_images(ctx, task.id, spec)
            break
        except TransientError:
            continue
    else:
        raise AssertionError("the upload never went through")
    resent = sim.received - image_bytes
    assert 0 < resent <= 2 * CHUNK, f"{resent} bytes sent twice for two lost requests of at most {CHUNK}"
    sim.queue.settle()
    with sim.lock:
        request = sim.data["requests"][rq_id]
        assert request["status"] == "finished", request
        frames = sim.data["tasks"][str(task.id)]["media"]["frames"]
    assert [f["name"] for f in frames] == [n.rsplit("/", 1)[-1] for n in names]
    assert all((f["width"], f["height"]) == (256, 256) for f in frames)
