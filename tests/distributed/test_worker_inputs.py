"""A worker reads a mission's inputs from the artifact store, not from the coordinator's disk.

A ``local.Files`` set is published to a shared store (``settings.artifacts``) by an apply
on this machine; the photos are then removed from the disk (the worker's machine never had
them) and the NodeODM task is applied with ``--executor celery``: its upload runs on a real
``skyform worker``, which fills ``ctx.inputs`` from the recorded manifest and fetches every
photo by its digest, verified, into ``.skyform/inputs/``. The NodeODM simulator receives
each photo with its size.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "specs" / "nodeodm-basic" / "data" / "a12"
NODEODM = {"SKYFORM_PLUGINS": "local,state,nodeodm"}


def test_an_upload_on_a_worker_reads_the_photos_from_the_store_by_digest(cluster):
    queue = cluster.queue("uploads")
    photos = cluster.mission_dir / "data"
    photos.mkdir()
    for image in sorted(SOURCE.glob("*.JPG")):
        shutil.copy2(image, photos / image.name)
    sizes = {p.name: p.stat().st_size for p in photos.iterdir()}
    store = cluster.tmp / "store"
    cluster.write(f"""
        settings: {{artifacts: "file://{store}", queues: {{local: {queue}, nodeodm: {queue}}}}}
        providers: {{nodeodm: {{url: "http://127.0.0.1:3000"}}}}
        resources:
          photos: {{type: local.Files, spec: {{glob: "data/*.JPG"}}}}
          reconstruct:
            type: nodeodm.Task
            spec:
              name: inputs
              images: "${{{{ resources.photos.outputs.paths }}}}"
              fingerprint: "${{{{ resources.photos.outputs.manifest_sha256 }}}}"
    """)
    published = cluster.apply("--executor", "local", "--target", "photos", env=NODEODM)
    assert published.returncode == 0, published.stdout + published.stderr
    shutil.rmtree(photos)  # not on this disk any more: only the store has them
    worker = cluster.worker(queue, env=NODEODM)
    ran = cluster.apply("--refresh=false", env=NODEODM, timeout=180)
    assert ran.returncode == 0, ran.stdout + ran.stderr + worker.text()
    dispatched = [json.loads(line) for line in ran.stdout.splitlines() if '"dispatched"' in line]
    assert {(e["address"], e["worker"]) for e in dispatched} >= {("reconstruct", worker.name)}
    sandbox = json.loads((cluster.mission_dir / ".skyform" / "sandbox" / "nodeodm.json").read_text())
    [task] = sandbox["tasks"].values()
    assert {name: task["files"][name] for name in sizes} == sizes  # every photo, whole
    fetched = sorted((cluster.mission_dir / ".skyform" / "inputs").glob("*/*.JPG"))
    assert sorted(p.name for p in fetched) == sorted(sizes)
    for copy in fetched:  # each copy is named by the sha256 of its bytes
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == copy.parent.name
