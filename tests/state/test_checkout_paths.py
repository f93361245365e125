"""The same mission from another checkout path never replaces paid work (issue 17).

A mission like the demo (``local.Files`` -> ``nodeodm.Task`` with the set's fingerprint, and
a ``cvat.Task`` of the same photos) is applied in one directory, then planned and applied
from another one: a copy with its ``.skyform`` state (a moved checkout, a CI workspace), or
a second checkout sharing PostgreSQL state (two gitops mirrors). Nothing may be replaced,
neither with state in today's form nor with state an older skyform wrote (absolute paths),
and a photo that really changed must still replace the task. Everything goes through the
CLI, over HTTP to the NodeODM and CVAT simulators; objects are counted in them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skyform.state import StateStore, open_store
from skyform.state.plugin import skyform_state_backends
from skyform.testing import run_cli
from skyform.testing.runner import cli_available

PHOTOS = Path(__file__).resolve().parents[2] / "specs" / "bridge-a12" / "data"
ENV = {"SKYFORM_SANDBOX_CLOCK": "50000", "NO_COLOR": "1"}
MISSION = """\
apiVersion: skyform/v1
kind: Mission
metadata: {name: checkout-paths}
providers:
  nodeodm: {url: "http://127.0.0.1:3000", token: "${{ secrets.NODEODM_TOKEN }}"}
  cvat: {url: "https://cvat.example.com", access_token: "${{ secrets.CVAT_TOKEN }}"}
resources:
  photos: {type: local.Files, spec: {glob: "data/*.JPG"}}
  reconstruct:
    type: nodeodm.Task
    spec:
      name: a12
      images: "${{ resources.photos.outputs.paths }}"
      fingerprint: "${{ resources.photos.outputs.manifest_sha256 }}"
  defects:
    type: cvat.Project
    spec: {name: A12 defects, labels: [{name: crack}]}
  annotate:
    type: cvat.Task
    spec:
      name: A12 photos
      project_id: "${{ resources.defects.outputs.id }}"
      images: "${{ resources.photos.outputs.paths }}"
      segment_size: 4
"""
NAME = "checkout-paths"
PAID = ("reconstruct", "annotate")

pytestmark = pytest.mark.skipif(not cli_available(), reason="the skyform CLI is not available")


@pytest.fixture(params=["own", pytest.param("postgresql", marks=pytest.mark.postgres)])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """Where the state lives: the mission's own ``.skyform/state.db`` (None; copied with the
    directory), or one PostgreSQL schema both checkouts use (the gitops mirror case)."""
    if request.param == "own":
        yield None
        return
    base = os.environ.get("SKYFORM_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("SKYFORM_TEST_POSTGRES_URL is not set")
    url = f"{base}{'&' if '?' in base else '?'}schema=skyform_test_{uuid.uuid4().hex[:12]}"
    yield url
    store = open_store(url, tmp_path, skyform_state_backends())
    store.drop_schema()  # type: ignore[attr-defined]
    store.close()


@pytest.fixture
def here(tmp_path: Path) -> Path:
    """Checkout A: the mission and its photos."""
    mission = tmp_path / "worker-a" / "missions" / "a12"
    shutil.copytree(PHOTOS, mission / "data")
    (mission / "mission.yaml").write_text(MISSION)
    return mission


def cli(command: str, mission: Path, state: str | None, *extra: str) -> Any:
    args = [command, "--sandbox", *(["--state", state] if state else []), *extra, str(mission)]
    return run_cli(*args, env=ENV)


def elsewhere(mission: Path, tmp_path: Path) -> Path:
    """Checkout B: the whole mission directory (its .skyform too) at another path."""
    there = tmp_path / "ci-runner" / "workspace" / "a12"
    shutil.copytree(mission, there)
    return there


def store_of(mission: Path, state: str | None) -> StateStore:
    return open_store(state, mission, skyform_state_backends())


def records(mission: Path, state: str | None) -> dict[str, Any]:
    store = store_of(mission, state)
    try:
        return store.resources(NAME)
    finally:
        store.close()


def objects(mission: Path) -> dict[str, Any]:
    listed = run_cli("sandbox", "objects", "--json", str(mission), env=ENV)
    assert listed.exit_code == 0, listed.output
    return listed.json()["objects"]


def applied(mission: Path, state: str | None) -> dict[str, str]:
    """Apply in ``mission``; the paid objects' remote ids."""
    done = cli("apply", mission, state, "--auto-approve")
    assert done.exit_code == 0, done.output
    found = records(mission, state)
    return {a: found[a].remote_id for a in PAID}


def as_an_older_skyform_wrote_it(mission: Path, state: str | None, *, digest: str) -> None:
    """Rewrite the state in the form written before paths were relative: ``paths`` and
    ``files[].path`` absolute (under ``mission``), the tasks' ``images`` too, and the
    manifest digest of that time (``relative``: over relative names; ``legacy``: the oldest,
    over absolute paths)."""
    from skyform_local.files import legacy_manifest

    store = store_of(mission, state)
    try:
        found = store.resources(NAME)
        photos = found["photos"]
        absolute = {name: str(mission / name) for name in photos.outputs["paths"]}
        files = [{**f, "path": absolute[f["path"]]} for f in photos.outputs["files"]]
        manifest = legacy_manifest(files) if digest == "legacy" else photos.outputs["manifest_sha256"]
        outputs = {**photos.outputs, "paths": [f["path"] for f in files], "files": files, "manifest_sha256": manifest}
        rewritten = [dataclasses.replace(photos, outputs=outputs, observed={"manifest_sha256": manifest})]
        for address in PAID:
            rs = found[address]
            spec = {**rs.spec, "images": [absolute[p] for p in rs.spec["images"]]}
            if "fingerprint" in spec:
                spec["fingerprint"] = manifest
            rewritten.append(dataclasses.replace(rs, spec=spec))
        store.write(NAME, rewritten)
    finally:
        store.close()


def assert_no_changes(mission: Path, state: str | None) -> None:
    plan = cli("plan", mission, state, "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "No changes." in plan.output, plan.output


def assert_applies_nothing(mission: Path, state: str | None, ids: dict[str, str]) -> None:
    """``apply`` from ``mission`` creates and deletes nothing in the simulators."""
    before = objects(mission)
    done = cli("apply", mission, state, "--auto-approve")
    assert done.exit_code == 0, done.output
    assert "No changes." in done.output, done.output
    assert objects(mission) == before
    assert {a: rs.remote_id for a, rs in records(mission, state).items() if a in PAID} == ids


def test_another_checkout_plans_no_changes_and_applies_nothing(here: Path, tmp_path: Path, state: str | None) -> None:
    """Outputs name the photos relative to the mission directory: from another path the plan
    is "No changes" (exit 0) and apply replaces neither the NodeODM nor the CVAT task."""
    ids = applied(here, state)
    assert records(here, state)["photos"].outputs["paths"][0] == "data/DJI_0001.JPG"
    assert objects(here)["nodeodm"]["task"] == 1 and objects(here)["cvat"]["task"] == 1
    there = elsewhere(here, tmp_path)
    assert_no_changes(there, state)
    assert_applies_nothing(there, state, ids)
    assert_no_changes(here, state)  # and back: the first checkout still agrees


@pytest.mark.parametrize("digest", ["relative", "legacy"])
def test_state_an_older_skyform_wrote_is_upgraded_without_a_replace(
    here: Path, tmp_path: Path, state: str | None, digest: str
) -> None:
    """State with absolute paths (and either manifest digest of those versions) plans no
    change in its own checkout or another one; the first apply rewrites every record of the
    mission in today's form, in one step, and a third checkout still plans no change."""
    ids = applied(here, state)
    as_an_older_skyform_wrote_it(here, state, digest=digest)
    old = records(here, state)
    assert old["reconstruct"].spec["images"][0] == str(here / "data" / "DJI_0001.JPG")
    assert_no_changes(here, state)
    there = elsewhere(here, tmp_path)
    assert_no_changes(there, state)
    assert_applies_nothing(there, state, ids)
    now = records(there, state)
    assert now["photos"].outputs["paths"][0] == "data/DJI_0001.JPG"
    assert now["reconstruct"].spec["images"][0] == "data/DJI_0001.JPG"
    assert now["annotate"].spec["images"][0] == "data/DJI_0001.JPG"
    assert now["reconstruct"].spec["fingerprint"] == old["reconstruct"].spec["fingerprint"]
    third = tmp_path / "third" / "a12"
    shutil.copytree(there, third)
    assert_no_changes(third, state)


@pytest.mark.parametrize("older", [False, True], ids=["today", "older-state"])
def test_a_photo_that_really_changed_still_replaces_the_task(
    here: Path, tmp_path: Path, state: str | None, older: bool
) -> None:
    """The wanted replace survives: an edited photo in the other checkout changes the
    fingerprint, so the NodeODM task is planned as a replace (with older state as well)."""
    applied(here, state)
    if older:
        as_an_older_skyform_wrote_it(here, state, digest="legacy")
    there = elsewhere(here, tmp_path)
    photo = there / "data" / "DJI_0003.JPG"
    photo.write_bytes(photo.read_bytes() + b"\0retouched")
    plan = cli("plan", there, state, "--detailed-exitcode")
    assert plan.exit_code == 2, plan.output
    assert "reconstruct (nodeodm.Task) must be replaced" in plan.output, plan.output
    assert "fingerprint" in plan.output
    manifest = records(there, state)["photos"].outputs["manifest_sha256"]
    assert manifest != hashlib.sha256(b"").hexdigest()
