"""The built-in `local.Files` kind through the CLI: manifests, changed files as updates, no match as an error."""

from __future__ import annotations

import hashlib
import json

FILES = """
    resources:
      photos: {type: local.Files, spec: {glob: "data/*.JPG"}}
      job: {type: fake.Job, spec: {name: "n=${{ resources.photos.outputs.count }}", duration: 30}}
    outputs:
      manifest: "${{ resources.photos.outputs.manifest_sha256 }}"
      paths: "${{ resources.photos.outputs.paths }}"
"""


def _photos(ws, **contents):
    data = ws.path / "data"
    data.mkdir(exist_ok=True)
    for name, body in contents.items():
        (data / f"{name}.JPG").write_bytes(body)
    return data


def test_manifest_outputs_and_dependent_reference(ws):
    """Outputs list the paths relative to the mission directory (the same in every checkout),
    count, bytes, sha256 per file and a manifest digest; dependents read them."""
    data = _photos(ws, a=b"one", b=b"three")
    (data / "notes.txt").write_text("not matched")
    ws.write(FILES)
    ran = ws.run("apply", "--sandbox", "--auto-approve", ws.path)
    assert ran.code == 0, str(ran)
    outputs = ws.records()["photos"].outputs
    assert outputs["paths"] == ["data/a.JPG", "data/b.JPG"]
    assert [f["path"] for f in outputs["files"]] == ["data/a.JPG", "data/b.JPG"]
    assert outputs["count"] == 2 and outputs["bytes"] == 8
    assert [f["sha256"] for f in outputs["files"]] == [
        hashlib.sha256(b"one").hexdigest(),
        hashlib.sha256(b"three").hexdigest(),
    ]
    assert json.loads(ws.run("output", "--json", ws.path).out)["manifest"] == outputs["manifest_sha256"]
    assert next(o for o in ws.remote_objects())["name"] == "n=2"
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path).code == 0


def test_changed_file_shows_as_an_update_in_the_plan(ws):
    """Editing a matched file changes the manifest: the plan shows photos changed outside skyform."""
    data = _photos(ws, a=b"one")
    ws.write(FILES)
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0
    (data / "a.JPG").write_bytes(b"edited photo")
    ran = ws.run("plan", "--sandbox", "--json", "--detailed-exitcode", ws.path)
    assert ran.code == 2, str(ran)
    actions = {a["address"]: a for a in ran.json_lines()[0]["actions"]}
    assert actions["photos"]["action"] == "update"
    assert actions["photos"]["drift"][0]["path"] == ["manifest_sha256"]


def test_no_matching_file_is_an_error_naming_the_pattern(ws):
    """A glob that matches nothing is a validation error naming the pattern and its line
    (exit 3 for validate, plan and apply), so nothing is created."""
    ws.write(FILES)
    for command in (["validate"], ["plan", "--sandbox"], ["apply", "--sandbox", "--auto-approve"]):
        ran = ws.run(*command, ws.path).clean()
        assert ran.code == 3, str(ran)
        assert "resources.photos.spec.glob: glob 'data/*.JPG' matches no file in" in ran.err, str(ran)
    assert ws.remote_objects() == []


def test_glob_outside_the_mission_directory_is_invalid(ws):
    """A glob escaping the mission directory is a validation error at its line."""
    f = ws.write('resources:\n  photos: {type: local.Files, spec: {glob: "../*.JPG"}}\n')
    ran = ws.run("validate", f).clean()
    assert ran.code == 3
    assert f"{f}:5:38: resources.photos.spec.glob: glob '../*.JPG' must stay inside the mission directory" in ran.err


def test_too_few_files_for_min_count_is_a_validation_error(ws):
    """Fewer matches than min_count is said at validate time, at the min_count field."""
    _photos(ws, a=b"one")
    ws.write("""
        resources:
          photos: {type: local.Files, spec: {glob: "data/*.JPG", min_count: 3}}
    """)
    ran = ws.run("validate", ws.path).clean()
    assert ran.code == 3, str(ran)
    assert "resources.photos.spec.min_count: min_count is 3, but only 1 file matches [local.Files]" in ran.err


def _moved(ws, tmp_path_factory):
    """The mission directory with its state, copied to another place (a second checkout)."""
    import shutil

    there = tmp_path_factory.mktemp("elsewhere") / "mission"
    shutil.copytree(ws.path, there)
    return there


def test_the_same_mission_in_another_checkout_plans_no_changes(ws, tmp_path_factory):
    """The manifest digest hashes paths relative to the mission directory: a copy of the
    mission and its state elsewhere has the same digest, so no drift and no update."""
    _photos(ws, a=b"one", b=b"three")
    ws.write(FILES)
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0
    recorded = ws.records()["photos"].outputs["manifest_sha256"]
    expected = hashlib.sha256(
        f"data/a.JPG\0{hashlib.sha256(b'one').hexdigest()}\ndata/b.JPG\0{hashlib.sha256(b'three').hexdigest()}\n".encode()
    ).hexdigest()
    assert recorded == expected
    there = _moved(ws, tmp_path_factory)
    ran = ws.run("plan", "--sandbox", "--detailed-exitcode", there)
    assert ran.code == 0, str(ran)
    assert "No changes" in ran.out


def test_a_record_made_with_absolute_paths_keeps_its_digest_while_its_files_are_the_same(ws, tmp_path_factory):
    """State written before the digest was relative: no false drift here or in another
    checkout (a new digest would replace what was made from the set); an edited file is drift."""
    import dataclasses

    from skyform_local.files import legacy_manifest

    data = _photos(ws, a=b"one", b=b"three")
    ws.write(FILES)
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0
    store = ws.store()
    try:
        photos = store.resources("mission")["photos"]
        old = legacy_manifest(photos.outputs["files"])
        outputs = {**photos.outputs, "manifest_sha256": old}
        store.write("mission", [dataclasses.replace(photos, outputs=outputs, observed={"manifest_sha256": old})])
    finally:
        store.close()
    there = _moved(ws, tmp_path_factory)
    for place in (ws.path, there):
        ran = ws.run("plan", "--sandbox", "--detailed-exitcode", place)
        assert ran.code == 0, str(ran)
    (data / "a.JPG").write_bytes(b"edited photo")
    ran = ws.run("plan", "--sandbox", "--json", "--detailed-exitcode", ws.path)
    assert ran.code == 2, str(ran)
    actions = {a["address"]: a for a in ran.json_lines()[0]["actions"]}
    assert actions["photos"]["drift"][0]["path"] == ["manifest_sha256"]


def test_a_spec_may_name_a_mission_file_by_its_absolute_path_or_its_relative_one(ws):
    """Path equivalence in the diff: changing a dependant's spec from the relative name of a
    file in the mission directory to its absolute path (or back) is no change; a path to
    another file still is."""
    _photos(ws, a=b"one")
    body = """
        resources:
          photos: {type: local.Files, spec: {glob: "data/*.JPG"}}
          thing: {type: fake.Thing, spec: {name: t, immutable_field: "%s"}}
    """
    ws.write(body % "data/a.JPG")
    assert ws.run("apply", "--sandbox", "--auto-approve", ws.path).code == 0
    ws.write(body % (ws.path.resolve() / "data" / "a.JPG"))
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path).code == 0
    ws.write(body % (ws.path.resolve() / "data" / "b.JPG"))
    assert ws.run("plan", "--sandbox", "--detailed-exitcode", ws.path).code == 2
