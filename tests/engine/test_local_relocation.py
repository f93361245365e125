"""Where an old ``local.Files`` record (absolute paths) was made: each case of proof, and no guess.

Table-driven over real files: the record is built as an older skyform wrote it in checkout
``a``; the current checkout is ``b`` (or ``a`` itself). ``relocate`` must map every path to
its name relative to the directory it proves, or map nothing when it cannot prove one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from skyform.providers import Record
from skyform_local.files import FilesKind, legacy_manifest, manifest_digest

NAMES = ["data/DJI_1.JPG", "data/DJI_2.JPG", "data/sub/DJI_3.JPG"]


def _checkout(root: Path, names: list[str]) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(f"photo {name}".encode())
    return root


def _record(a: Path, spec: dict, names: list[str], digest: str) -> Record:
    files = [
        {"path": str(a / n), "sha256": hashlib.sha256(f"photo {n}".encode()).hexdigest(), "bytes": len(f"photo {n}")}
        for n in names
    ]
    manifest = legacy_manifest(files) if digest == "legacy" else manifest_digest(files, a)
    outputs = {"paths": [f["path"] for f in files], "files": files, "manifest_sha256": manifest}
    return Record("photos", "local.Files", "x", "ready", spec, outputs, {}, {}, "k", 0.0)


CASES = [
    # (spec, names recorded, digest of that time, checkout we plan from, what it maps to)
    ({"glob": "data/**/*.JPG"}, NAMES, "legacy", "same", NAMES),
    ({"glob": "data/**/*.JPG"}, NAMES, "relative", "moved", NAMES),
    ({"glob": ["data/*.JPG", "data/sub/*.JPG"]}, NAMES, "legacy", "moved", NAMES),
    ({"glob": "**/*.JPG"}, NAMES, "legacy", "moved", NAMES),
    ({"paths": NAMES}, NAMES, "legacy", "moved", NAMES),
]


@pytest.mark.parametrize(("spec", "names", "digest", "where", "expected"), CASES)
def test_an_old_record_is_mapped_to_the_names_it_proves(tmp_path, spec, names, digest, where, expected):
    a = _checkout(tmp_path / "worker-a" / "m", NAMES)
    here = a if where == "same" else _checkout(tmp_path / "ci" / "ws" / "m", NAMES)
    mapping = FilesKind().relocate(_record(a, spec, names, digest), here)
    assert mapping == {str(a / n): n for n in expected}


def test_without_the_files_here_an_oldest_record_is_not_guessed(tmp_path):
    """A digest over absolute paths proves nothing by itself: with no same-size files here,
    nothing is mapped (the plan then shows what differs)."""
    a = _checkout(tmp_path / "a" / "m", NAMES)
    here = tmp_path / "b" / "m"
    here.mkdir(parents=True)
    assert FilesKind().relocate(_record(a, {"glob": "data/**/*.JPG"}, NAMES, "legacy"), here) == {}


def test_a_file_of_another_size_here_is_no_proof(tmp_path):
    a = _checkout(tmp_path / "a" / "m", NAMES)
    here = _checkout(tmp_path / "b" / "m", NAMES)
    (here / NAMES[0]).write_bytes(b"retouched, another size")
    assert FilesKind().relocate(_record(a, {"glob": "data/**/*.JPG"}, NAMES, "legacy"), here) == {}


def test_files_named_by_absolute_paths_outside_the_mission_stay_as_they_are(tmp_path):
    outside = _checkout(tmp_path / "archive", ["x/DJI_9.JPG"])
    a = tmp_path / "a" / "m"
    a.mkdir(parents=True)
    absolute = str(outside / "x" / "DJI_9.JPG")
    record = _record(outside, {"paths": [absolute]}, ["x/DJI_9.JPG"], "legacy")
    assert FilesKind().relocate(record, a) == {}


def test_a_record_in_todays_form_needs_nothing(tmp_path):
    a = _checkout(tmp_path / "a" / "m", NAMES)
    record = _record(a, {"glob": "data/**/*.JPG"}, NAMES, "relative")
    today = {**record.outputs, "files": [{**f, "path": n} for f, n in zip(record.outputs["files"], NAMES, strict=True)]}
    assert FilesKind().relocate(Record("photos", "local.Files", "x", "ready", {}, today, {}, {}, "k", 0.0), a) == {}
