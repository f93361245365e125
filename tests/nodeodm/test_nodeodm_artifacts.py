"""A worker on another machine uploads photos it does not have: local.Files published them to
the shared artifact store, and nodeodm.Task fetches each one by the digest the record keeps."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from nodeodm_support import JPEG, KIND, context, images

from skyform.artifacts import store_at
from skyform.artifacts.references import published_files
from skyform.errors import ArtifactCorrupt, PermanentError
from skyform.state.base import ResourceState
from skyform_local.files import FilesKind


def published(mission: Path, shared: Path, node_settings: dict) -> tuple[list[str], dict[str, str]]:
    """The photos as the coordinator records them after local.Files ran against a shared store."""
    ctx = dataclasses.replace(
        context(node_settings, mission, address="photos"), artifacts=store_at(str(shared), mission)
    )
    result = FilesKind().create({"glob": "photos/*.JPG"}, ctx)
    record = ResourceState("photos", "local.Files", "ready", "k", 0.0, outputs=result.outputs)
    return result.outputs["paths"], published_files([record])


def test_a_worker_without_the_photos_uploads_them_from_the_store(node, mission: Path, tmp_path: Path) -> None:
    sim, running = node
    shared = tmp_path / "shared-store"
    paths, inputs = published(mission, shared, running.settings())
    assert sorted(inputs) == sorted(paths) and all(v.startswith("sha256:") for v in inputs.values())
    sizes = {Path(p).name: (mission / p).stat().st_size for p in paths}
    shutil.rmtree(mission / "photos")  # the worker's machine: no photos, the same store
    worker_dir = tmp_path / "worker"
    worker_dir.mkdir()
    ctx = dataclasses.replace(
        context(running.settings(), worker_dir), artifacts=store_at(str(shared), worker_dir), inputs=inputs
    )
    created = KIND.create({"name": "a12", "images": paths}, ctx)
    assert sim.data["tasks"][created.remote_id]["files"] == sizes
    fetched = sorted((worker_dir / ".skyform" / "inputs").glob("*/*.JPG"))
    assert [p.name for p in fetched] == sorted(sizes) and all(p.read_bytes().startswith(JPEG) for p in fetched)


def test_a_corrupt_published_photo_is_refused_not_uploaded(node, mission: Path, tmp_path: Path) -> None:
    sim, running = node
    shared = tmp_path / "shared-store"
    paths, inputs = published(mission, shared, running.settings())
    store = store_at(str(shared), tmp_path)
    victim = store.key(next(iter(store.ls())).digest)
    Path(victim).write_bytes(b"not the photo")
    shutil.rmtree(mission / "photos")
    ctx = dataclasses.replace(context(running.settings(), tmp_path / "w"), artifacts=store, inputs=inputs)
    with pytest.raises(ArtifactCorrupt, match="is corrupt"):
        KIND.create({"name": "a12", "images": paths}, ctx)
    assert sim.data["tasks"] == {}


def test_a_photo_neither_here_nor_published_is_reported_missing(node, mission: Path, tmp_path: Path) -> None:
    _, running = node
    ctx = context(running.settings(), tmp_path)
    with pytest.raises(PermanentError, match="file\\(s\\) to upload not found"):
        KIND.create({"name": "a12", "images": [str(tmp_path / "nowhere.JPG")]}, ctx)
    assert images(mission)  # the fixture's photos were never needed
