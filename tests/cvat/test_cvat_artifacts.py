"""A worker without the images creates a CVAT task from the artifact store's verified copies."""

from __future__ import annotations

import dataclasses
import shutil

from skyform.artifacts import store_at


def test_a_task_is_created_from_published_images_on_a_machine_without_them(sandbox, images, tmp_path) -> None:
    store = store_at(str(tmp_path / "shared-store"), tmp_path)
    paths = [sandbox.mission_dir / p for p in images[:3]]
    inputs = {str(p): str(store.put(p)) for p in paths}
    shutil.rmtree(sandbox.mission_dir / "images")  # the photos stay on the coordinator's disk only
    tasks = sandbox.ops("Task")
    ctx = dataclasses.replace(tasks.context(), artifacts=store, inputs=inputs)
    spec = {"name": "from-store", "labels": [{"name": "car"}], "images": images[:3]}
    done = tasks.wait(tasks.record(tasks.kind.create(spec, ctx), spec, ctx))
    assert done.status == "ready" and done.outputs["size"] == 3
    fetched = sorted(p.name for p in (sandbox.mission_dir / ".skyform" / "inputs").glob("*/*.png"))
    assert fetched == sorted(p.name for p in paths)
