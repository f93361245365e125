"""Loading mission files: bad YAML of every sort ends as `file:line:col: message`, exit 3.

Each case is a file's bytes and the fragments `skyform validate` must print; none may show a
traceback, and the dangerous ones (alias bombs, recursion, deep nesting) must be refused fast.
"""

from __future__ import annotations

import pytest

H = "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: m}\n"
LAUGHS = (
    H
    + "".join(
        f"{n}: &{n} [" + ",".join([f"*{p}"] * 10 if p else ["lol"] * 10) + "]\n"
        for p, n in zip([None, "a", "b", "c", "d", "e", "f", "g", "h"], "abcdefghi", strict=True)
    )
    + "resources: {}\n"
)

# (case id, file content, expected fragments of stderr - the location is ":line:col")
CASES = [
    (
        "malformed YAML names line and column",
        H + "resources:\n  a: {type: fake.Thing, spec: {name: [}\n",
        ["mission.yaml:5:39:", "invalid YAML: did not find expected node content"],
    ),
    ("unclosed quote", H + 'resources:\n  a:\n    type: "fake.Thing\n', ["mission.yaml:", "invalid YAML"]),
    ("tab indentation", H + "resources:\n\ta: 1\n", ["mission.yaml:5:", "invalid YAML"]),
    (
        "duplicate key inside a resource",
        H + "resources:\n  a:\n    type: fake.Thing\n    type: fake.Job\n    spec: {name: x}\n",
        ["mission.yaml:7:5:", "duplicate key 'type' (first defined at line 6)"],
    ),
    (
        "duplicate top-level key",
        H + "resources: {}\nresources: {}\n",
        ["mission.yaml:5:1:", "duplicate key 'resources' (first defined at line 4)"],
    ),
    (
        "unknown top-level key",
        H + "resources: {}\nextras: 1\n",
        ["mission.yaml:5:1: extras: unknown field 'extras'", "allowed: apiVersion, kind, metadata"],
    ),
    (
        "misspelt top-level key gets its location",
        H + "resources: {}\noutput: {}\n",
        ["mission.yaml:5:1: output: unknown field 'output'"],
    ),
    (
        "python object tag refused",
        H + "resources: !!python/object:os.system {}\n",
        ["mission.yaml:4:12:", "YAML tag 'tag:yaml.org,2002:python/object:os.system' is not allowed"],
    ),
    (
        "custom local tag refused",
        H + "resources:\n  a: {type: fake.Thing, spec: {name: !custom x}}\n",
        ["mission.yaml:5:38:", "YAML tag '!custom' is not allowed in a mission"],
    ),
    ("!!set refused", H + "resources: !!set {a, b}\n", ["mission.yaml:4:12:", "is not allowed in a mission"]),
    ("!!binary refused", H + "resources: !!binary aGVsbG8=\n", ["mission.yaml:4:12:", "is not allowed in a mission"]),
    ("billion laughs refused", LAUGHS, ["mission.yaml:", "expands to more than 2,000,000 values", "refused"]),
    (
        "recursive alias refused",
        H + "resources: &r\n  a: *r\n",
        ["mission.yaml:5:6:", "a recursive alias (a node that contains itself) is not allowed"],
    ),
    (
        "deep nesting refused",
        H + "resources:\n  a: {type: fake.Thing, spec: {name: x, value: " + "[" * 300 + "]" * 300 + "}}\n",
        ["mission.yaml:5:", "nesting deeper than 200 levels is not allowed"],
    ),
    (
        "deep block nesting refused",
        H + "resources:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 260)) + "  " * 260 + "x: 1\n",
        ["mission.yaml:", "nesting deeper than 200 levels"],
    ),
    (
        "non-UTF-8 bytes",
        (H + "resources: {}\n# caf\xe9\n").encode("latin-1"),
        ["mission.yaml:5:1:", "file is not valid UTF-8 (byte 76)"],
    ),
    ("binary file", b"\x00\x01\x02binary\x00", ["mission.yaml:1:1:", "file is binary, not YAML text"]),
    ("empty file", "", ["mission.yaml:1:1:", "a mission file must be a mapping"]),
    ("only a comment", "# nothing here\n", ["mission.yaml:1:1:", "a mission file must be a mapping"]),
    ("a list, not a mapping", "- a\n- b\n", ["mission.yaml:1:1:", "a mission file must be a mapping"]),
    (
        "multi-document file",
        H + "resources: {}\n---\n" + H + "resources: {}\n",
        ["mission.yaml:5:1:", "a mission file holds one YAML document; split the others into their own files"],
    ),
    ("unhashable key", H + "resources:\n  [a, b]: 1\n", ["mission.yaml:5:3:", "a mapping key must be a scalar"]),
    (
        "missing envelope fields",
        "metadata: {name: m}\n",
        ["the required fields 'apiVersion', 'kind' and 'resources' are missing"],
    ),
]


@pytest.mark.parametrize("content,expected", [pytest.param(c, e, id=i) for i, c, e in CASES])
def test_bad_file_is_refused_with_its_location(ws, content, expected):
    """Every malformed mission file is exit 3 with file:line:col and a plain message, no traceback."""
    ws.raw(content)
    ran = ws.run("validate", ws.path / "mission.yaml").clean()
    assert ran.code == 3, str(ran)
    for fragment in expected:
        assert fragment in ran.err, f"{fragment!r} missing\n{ran}"
    assert "error" in ran.err and "found." in ran.err


def test_duplicate_resource_id_across_files_names_both_locations(ws):
    """A resource id defined in two files of one mission names both files with line:col."""
    ws.raw(H + "resources:\n  x: {type: fake.Thing, spec: {name: a}}\n", file="a.yaml")
    ws.raw(
        "resources:\n  y: {type: fake.Thing, spec: {name: b}}\n  x: {type: fake.Thing, spec: {name: c}}\n",
        file="b.yaml",
    )
    ran = ws.run("validate", ws.path).clean()
    assert ran.code == 3, str(ran)
    assert f"{ws.path / 'b.yaml'}:3:3: resources.x: duplicate resource id 'x'" in ran.err
    assert f"(also defined at {ws.path / 'a.yaml'}:5:3)" in ran.err


def test_duplicate_output_and_variable_across_files_name_both(ws):
    """An output or variable defined in two files of one mission is refused, naming both places."""
    ws.raw(H + "variables: {n: 1}\nresources: {}\noutputs: {o: x}\n", file="a.yaml")
    ws.raw("variables: {n: 2}\noutputs: {o: y}\n", file="b.yaml")
    ran = ws.run("validate", ws.path).clean()
    assert ran.code == 3, str(ran)
    assert (
        f"{ws.path / 'b.yaml'}:1:13: variables.n: duplicate variables entry 'n' (also defined at {ws.path / 'a.yaml'}"
        in ran.err
    )
    assert (
        f"{ws.path / 'b.yaml'}:2:11: outputs.o: duplicate outputs entry 'o' (also defined at {ws.path / 'a.yaml'}"
        in ran.err
    )


def test_metadata_in_two_files_is_an_error_naming_both(ws):
    """Two files that both declare metadata are refused; the message points at the second and names the first."""
    ws.raw(H + "resources: {}\n", file="a.yaml")
    ws.raw(H + "resources: {}\n", file="b.yaml")
    ran = ws.run("validate", ws.path).clean()
    assert ran.code == 3, str(ran)
    assert f"{ws.path / 'b.yaml'}:3:1: metadata: 'metadata' is defined in more than one file" in ran.err
    assert f"also at {ws.path / 'a.yaml'}:3:1" in ran.err


def test_directory_mission_merges_resources_from_every_yaml_file(ws):
    """Every *.yaml of a directory is one mission: resources of both files validate together."""
    ws.raw(H + "resources:\n  x: {type: fake.Thing, spec: {name: a}}\n", file="a.yaml")
    ws.raw(
        'resources:\n  y:\n    type: fake.Thing\n    spec: {name: "${{ resources.x.outputs.name }}"}\n', file="b.yaml"
    )
    ws.raw("this is: [not, part, of the mission", file="notes.txt")
    ran = ws.run("validate", ws.path)
    assert ran.code == 0, str(ran)
    assert "Mission 'm': 2 resource(s) in 2 file(s)." in ran.out


def test_error_in_the_second_file_points_at_that_file(ws):
    """Spec errors in a merged mission carry the file they were written in, not the first file."""
    ws.raw(H + "resources:\n  x: {type: fake.Thing, spec: {name: a}}\n", file="a.yaml")
    ws.raw("resources:\n  y:\n    type: fake.Thing\n    spec: {name: b, even: 3}\n", file="b.yaml")
    ran = ws.run("validate", ws.path).clean()
    assert ran.code == 3
    assert f"{ws.path / 'b.yaml'}:4:21: resources.y.spec.even: 3 is odd" in ran.err


def test_empty_directory_and_missing_path_are_clear_errors(ws):
    """No *.yaml in a directory, or a path that does not exist: a message naming it, exit 3."""
    empty = ws.path / "empty"
    empty.mkdir()
    ran = ws.run("validate", empty).clean()
    assert ran.code == 3 and "no *.yaml files in" in ran.err and str(empty) in ran.err
    ran = ws.run("validate", ws.path / "nope.yaml").clean()
    assert ran.code == 3 and "nope.yaml does not exist" in ran.err


def test_unreadable_file_is_named(ws):
    """A mission file that cannot be read is an error naming the file, not a traceback."""
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    f = ws.raw(H + "resources: {}\n")
    f.chmod(0)
    try:
        ran = ws.run("validate", f).clean()
    finally:
        f.chmod(0o644)
    assert ran.code == 3 and f"cannot read {f}" in ran.err


def test_timestamps_stay_strings_and_yaml_1_1_booleans_do_not_apply(ws):
    """`yes` and dates are kept as written (YAML 1.2): a date-like name passes the string schema."""
    ws.raw(H + "resources:\n  a: {type: fake.Thing, spec: {name: 2026-12-01, value: yes}}\n")
    ran = ws.run("validate", "--json", ws.path / "mission.yaml")
    assert ran.code == 0, str(ran)


def test_validate_json_lists_every_error_with_its_location(ws):
    """`validate --json` prints one JSON object with each error's file, line, column, path and type."""
    import json

    ws.raw(H + "resources:\n  a:\n    type: fake.Thing\n    spec: {name: x, even: 3, colour: red}\n")
    ran = ws.run("validate", "--json", ws.path / "mission.yaml").clean()
    assert ran.code == 3
    data = json.loads(ran.out)
    assert data["valid"] is False
    by_path = {e["path"]: e for e in data["errors"]}
    assert by_path["resources.a.spec.even"]["line"] == 7
    assert by_path["resources.a.spec.even"]["type"] == "fake.Thing"
    assert by_path["resources.a.spec.colour"]["message"].startswith("unknown field 'colour'")


def test_planted_cache_pickle_is_never_unpickled(ws, tmp_path):
    """A pickle planted in the mission's cache under its digest is ignored (HMAC), not executed."""
    import pickle

    from skyform.spec.cache import _cache_dir
    from skyform.spec.mission import content_digest

    f = ws.raw(H + "resources:\n  a: {type: fake.Thing, spec: {name: a}}\n")
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    cache = _cache_dir(ws.path)
    cache.mkdir(parents=True)
    digest = content_digest([f], [f.read_bytes()])
    payload = pickle.dumps({"version": 1, "sources": [str(f)], "document": Evil(), "valid": None})
    (cache / f"{digest}.pickle").write_bytes(b"\0" * 32 + payload)
    ran = ws.run("validate", f)
    assert ran.code == 0, str(ran)
    assert not marker.exists()


def test_cached_mission_keeps_locations_for_errors(ws, monkeypatch):
    """A mission served from the parse cache (here re-validated because the providers changed) still
    reports errors at the right file, line and column."""
    f = ws.raw(H + "resources:\n  a:\n    type: fake.Thing\n    spec: {name: a}\n")
    assert ws.run("validate", f).code == 0
    from skyform.spec.cache import _cache_dir

    assert any(_cache_dir(ws.path).glob("*.pickle"))
    monkeypatch.setenv("SKYFORM_PLUGIN_MODULES", "")
    ran = ws.run("validate", f).clean()
    assert ran.code == 3
    assert f"{f}:6:5: resources.a.type: unknown provider 'fake' in type 'fake.Thing'" in ran.err
