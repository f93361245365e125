"""``skyform artifacts ls|get|gc`` over real applies: local.Files publishing photos to a shared
store (a directory, and S3 on moto), two missions storing the same photos once."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skyform.artifacts import Digest, store_at
from skyform.testing.plugin import write_mission_files

from .conftest import FAKE_SECRET, new_bucket

PHOTOS = {"photos/DJI_0001.JPG": b"\xff\xd8 photo one", "photos/DJI_0002.JPG": b"\xff\xd8 photo two"}


def mission(directory: Path, store: Any, extra: dict[str, bytes] | None = None) -> Path:
    return write_mission_files(
        directory,
        {
            "settings": {"artifacts": store},
            "resources": {"photos": {"type": "local.Files", "spec": {"glob": "photos/*.JPG"}}},
        },
        files={**PHOTOS, **(extra or {})},
    )


def test_two_missions_store_the_same_photos_once_and_gc_keeps_what_state_refers_to(
    tmp_path: Path, run_skyform: Callable[..., Any]
) -> None:
    shared = tmp_path / "shared-store"
    a12 = mission(tmp_path / "a12", str(shared))
    b7 = mission(tmp_path / "b7", str(shared), extra={"photos/DJI_0003.JPG": b"\xff\xd8 only in b7"})
    for m in (a12, b7):
        assert run_skyform("apply", "--auto-approve", m).exit_code == 0
    # a photo touched (new mtime, same bytes) is re-read on refresh: its reference stays
    (a12 / "photos" / "DJI_0001.JPG").touch()
    again = run_skyform("apply", "--auto-approve", a12)
    assert again.exit_code == 0, again.output
    listed = run_skyform("artifacts", "ls", a12, b7, "--json")
    assert listed.exit_code == 0, listed.output
    objects = {o["digest"]: o["referenced_by"] for o in json.loads(listed.stdout)["objects"]}
    both = ["a12/photos", "b7/photos"]
    only_b7 = str(Digest.of_bytes(b"\xff\xd8 only in b7"))
    assert objects == {
        str(Digest.of_bytes(PHOTOS["photos/DJI_0001.JPG"])): both,
        str(Digest.of_bytes(PHOTOS["photos/DJI_0002.JPG"])): both,
        only_b7: ["b7/photos"],
    }
    # the records keep the digests: a worker elsewhere fetches each photo by them
    state = json.loads(run_skyform("state", "show", a12, "photos").stdout)
    assert {f["artifact"] for f in state["outputs"]["files"]} == set(objects) - {only_b7}

    # gc of the store keeps what any named mission's state refers to; dry run by default
    dry = run_skyform("artifacts", "gc", a12, "--grace", "0s")
    assert dry.exit_code == 0 and "Would delete 1 object(s)" in dry.stdout and only_b7 in dry.stdout
    assert "Run again with --yes" in dry.stdout and (shared / "sha256" / only_b7[7:9] / only_b7[7:]).is_file()
    assert "Deleted 0 object(s)" in run_skyform("artifacts", "gc", a12, b7, "--grace", "0s", "--yes").stdout
    assert run_skyform("destroy", "--auto-approve", b7).exit_code == 0
    gone = run_skyform("artifacts", "gc", a12, b7, "--grace", "0s", "--yes")
    assert gone.exit_code == 0 and "Deleted 1 object(s)" in gone.stdout, gone.output
    assert len(store_at(str(shared), tmp_path).ls()) == 2


def test_get_verifies_while_writing_and_a_corrupt_object_fails_naming_it(
    tmp_path: Path, run_skyform: Callable[..., Any]
) -> None:
    shared = tmp_path / "store"
    a12 = mission(tmp_path / "a12", str(shared))
    assert run_skyform("apply", "--auto-approve", a12).exit_code == 0
    digest = Digest.of_bytes(PHOTOS["photos/DJI_0001.JPG"])
    got = run_skyform("artifacts", "get", str(digest), a12, "-o", tmp_path / "out.jpg")
    assert got.exit_code == 0 and (tmp_path / "out.jpg").read_bytes() == PHOTOS["photos/DJI_0001.JPG"]
    (shared / "sha256" / digest.hex[:2] / digest.hex).write_bytes(b"rotten")
    bad = run_skyform("artifacts", "get", str(digest), a12, "-o", tmp_path / "bad.jpg")
    assert bad.exit_code == 1 and f"artifact {digest}" in bad.output and "is corrupt" in bad.output
    assert "Traceback" not in bad.output and not (tmp_path / "bad.jpg").exists()
    wrong = run_skyform("artifacts", "get", "sha256:nothex", a12)
    assert wrong.exit_code == 64 and "is not an artifact digest" in wrong.output


def test_an_s3_store_holds_the_photos_and_no_credentials_reach_state_or_output(
    tmp_path: Path, run_skyform: Callable[..., Any], s3_env: str
) -> None:
    bucket = new_bucket(s3_env)
    a12 = mission(tmp_path / "a12", {"url": f"s3://{bucket}/missions", "endpoint": s3_env})
    applied = run_skyform("apply", "--auto-approve", a12)
    assert applied.exit_code == 0, applied.output
    listed = run_skyform("artifacts", "ls", a12)
    assert listed.exit_code == 0 and "2 object(s)" in listed.stdout and f"s3://{bucket}/missions" in listed.stdout
    for digest in (Digest.of_bytes(v) for v in PHOTOS.values()):
        assert f"{digest}" in listed.stdout
    recorded = (a12 / ".skyform" / "state.db").read_bytes()
    assert FAKE_SECRET.encode() not in recorded and FAKE_SECRET not in applied.output + listed.output
