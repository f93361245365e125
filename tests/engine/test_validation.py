"""Validation: each invalid spec -> the `file:line:col: path: message [type]` lines users see.

The table holds the body of a mission (after the envelope header, which sits on lines 1-3)
and the fragments `skyform validate` must print. Line numbers count from the top of the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# (case id, mission body after the 3-line header, expected stderr fragments)
CASES = [
    (
        "wrong apiVersion and kind",
        None,
        [
            ":1:1: apiVersion: apiVersion must be 'skyform/v1', not 'skyform/v2' [mission]",
            ":2:1: kind: kind must be 'Mission', not 'Mision' [mission]",
        ],
    ),
    ("bad mission name", "resources: {}\n", None),
    (
        "resource id with a space",
        """
        resources:
          weird id!:
            type: fake.Thing
            spec: {name: a}
     """,
        [
            ":4:1: resources: 'weird id!' is not a valid name in resources: a resource id is letters, digits, '_' "
            "and '-', and starts with a letter or '_' [mission]"
        ],
    ),
    (
        "type without a kind",
        """
        resources:
          a:
            type: notatype
            spec: {name: a}
     """,
        [
            ":6:5: resources.a.type: type 'notatype' is not of the form <provider>.<Kind> (e.g. nodeodm.Task); "
            "installed providers: fake, local [notatype]"
        ],
    ),
    (
        "spec must be a mapping",
        """
        resources:
          a:
            type: fake.Thing
            spec: []
     """,
        [":7:5: resources.a.spec: the spec must be an object (a mapping), not a list ([]) [mission]"],
    ),
    (
        "missing spec",
        """
        resources:
          a:
            type: fake.Thing
     """,
        [":5:3: resources.a: the required field 'spec' is missing [mission]"],
    ),
    (
        "unknown resource field",
        """
        resources:
          a:
            type: fake.Thing
            spec: {name: a}
            depends: [b]
     """,
        [":8:5: resources.a.depends: unknown field 'depends'", "[mission]"],
    ),
    (
        "lifecycle errors, each at its own column",
        """
        resources:
          a:
            type: fake.Thing
            spec: {name: x}
            lifecycle: {retries: -1, on_failure: explode, colour: 1, prevent_destroy: maybe}
     """,
        [
            ":8:17: resources.a.lifecycle.retries: retries must be at least 0, not -1 [mission]",
            ":8:30: resources.a.lifecycle.on_failure: on_failure must be one of 'stop', 'continue', "
            "not 'explode' [mission]",
            ":8:51: resources.a.lifecycle.colour: unknown field 'colour'",
            ":8:62: resources.a.lifecycle.prevent_destroy: prevent_destroy must be true or false, not the string "
            "'maybe' [mission]",
        ],
    ),
    (
        "lifecycle timeout that is not a duration",
        """
        resources:
          a:
            type: fake.Thing
            spec: {name: x}
            lifecycle: {timeout: forever}
     """,
        [
            ":8:17: resources.a.lifecycle.timeout: timeout fits none of its 2 accepted forms (a string or a "
            "number); the closest, a string, fails: 'forever' is not a valid timeout: a duration such as 90s, 30m, "
            "6h or 1h30m [mission]"
        ],
    ),
    (
        "unknown provider with did-you-mean",
        """
        resources:
          a:
            type: fakke.Thing
            spec: {name: a}
     """,
        [
            ":6:5: resources.a.type: unknown provider 'fakke' in type 'fakke.Thing'; installed: fake, local "
            "[fakke.Thing]",
            "hint: did you mean 'fake'?",
        ],
    ),
    (
        "unknown kind with did-you-mean",
        """
        resources:
          a:
            type: fake.Thingg
            spec: {name: a}
     """,
        [
            ":6:5: resources.a.type: provider 'fake' has no kind 'Thingg'; kinds: Thing, Job [fake.Thingg]",
            "hint: did you mean 'Thing'?",
        ],
    ),
    (
        "unknown provider settings block",
        """
        providers:
          fakee: {}
        resources: {}
     """,
        [
            ":5:3: providers.fakee: unknown provider 'fakee'; installed: fake, local [mission]",
            "hint: did you mean 'fake'?",
        ],
    ),
    (
        "provider settings against its schema",
        """
        providers:
          fake: {url: 1}
        resources: {}
     """,
        [":5:10: providers.fake.url: url must be a string, not the number 1 [fake settings]"],
    ),
    (
        "schema: empty name, at the field's line",
        """
        resources:
          a:
            type: fake.Thing
            spec:
              name: ""
     """,
        [":8:7: resources.a.spec.name: name must not be empty [fake.Thing]"],
    ),
    (
        "schema: unknown spec field with its allowed list",
        """
        resources:
          a:
            type: fake.Thing
            spec:
              name: a
              colour: red
     """,
        [
            ":9:7: resources.a.spec.colour: unknown field 'colour'; allowed: name, value, create_error, cost, "
            "irreversible, chatter, chatter_every, immutable_field, even [fake.Thing]"
        ],
    ),
    (
        "schema: misspelt field gets did-you-mean",
        """
        resources:
          a:
            type: fake.Thing
            spec: {name: a, evn: 2}
     """,
        [":7:21: resources.a.spec.evn: unknown field 'evn' (did you mean 'even'?)"],
    ),
    (
        "schema: missing required field",
        """
        resources:
          a:
            type: fake.Thing
            spec: {value: 1}
     """,
        [":7:5: resources.a.spec: the required field 'name' is missing [fake.Thing]"],
    ),
    (
        "schema: wrong type and range",
        """
        resources:
          a:
            type: fake.Job
            spec:
              name: a
              duration: -1
              fail: "no"
     """,
        [
            ":9:7: resources.a.spec.duration: duration must be at least 0, not -1 [fake.Job]",
            ":10:7: resources.a.spec.fail: fail must be true or false, not the string 'no' [fake.Job]",
        ],
    ),
    (
        "semantic check from the kind",
        """
        resources:
          a:
            type: fake.Thing
            spec:
              name: a
              even: 3
     """,
        [":9:7: resources.a.spec.even: 3 is odd; an even number is required [fake.Thing]"],
    ),
    (
        "typed whole-value expression is checked after resolution",
        """
        variables: {n: 5}
        resources:
          a:
            type: fake.Thing
            spec: {name: a, even: "${{ var.n }}"}
     """,
        [":8:21: resources.a.spec.even: 5 is odd; an even number is required [fake.Thing]"],
    ),
    (
        "interpolated expression is a string, so a number field refuses it",
        """
        variables: {n: 4}
        resources:
          a:
            type: fake.Thing
            spec: {name: a, even: "n=${{ var.n }}"}
     """,
        [":8:21: resources.a.spec.even: even must be an integer, not the string 'n=4' [fake.Thing]"],
    ),
    (
        "bad expression root with did-you-mean",
        """
        resources:
          a:
            type: fake.Thing
            spec: {name: "${{ varr.site }}"}
     """,
        [
            ":7:12: resources.a.spec.name: unknown root 'varr' in expression 'varr.site'; roots are resources, var, "
            "secrets, mission [fake.Thing]",
            "hint: did you mean 'var'?",
        ],
    ),
    (
        "expression that is not a path",
        """
        resources:
          a:
            type: fake.Thing
            spec: {name: "${{ var.a + 1 }}"}
     """,
        [":7:12: resources.a.spec.name: expression 'var.a + 1' is not a dotted path"],
    ),
    (
        "resource reference must read outputs",
        """
        resources:
          a:
            type: fake.Thing
            spec: {name: a}
          b:
            type: fake.Thing
            spec: {name: "x ${{ resources.a }}"}
     """,
        [":10:12: resources.b.spec.name: expression 'resources.a': resource references read outputs"],
    ),
    (
        "unknown resource id with did-you-mean",
        """
        resources:
          t3:
            type: fake.Thing
            spec: {name: a}
          b:
            type: fake.Thing
            spec: {name: "${{ resources.t33.outputs.id }}"}
     """,
        [
            ":10:12: resources.b.spec.name: ${{ resources.t33.outputs.id }}: no resource 't33' in this mission "
            "[fake.Thing]",
            "hint: did you mean 't3'?",
        ],
    ),
    (
        "unknown output name with did-you-mean",
        """
        resources:
          a:
            type: fake.Thing
            spec: {name: a}
          b:
            type: fake.Thing
            spec: {name: "${{ resources.a.outputs.idd }}"}
     """,
        [
            ":10:12: resources.b.spec.name: ${{ resources.a.outputs.idd }}: fake.Thing has no output 'idd'; "
            "outputs: id, name, value [fake.Thing]",
            "hint: did you mean 'id'?",
        ],
    ),
    (
        "unknown variable path",
        """
        variables: {site: {lat: 1}}
        resources:
          a:
            type: fake.Thing
            spec: {name: a, value: "${{ var.site.lon }}"}
     """,
        [":8:21: resources.a.spec.value: ${{ var.site.lon }}: 'lon' not found under site [fake.Thing]"],
    ),
    (
        "unknown mission field",
        """
        resources:
          a:
            type: fake.Thing
            spec: {name: a, value: "${{ mission.nam }}"}
     """,
        [":7:21: resources.a.spec.value: ${{ mission.nam }}: 'nam' not found", "did you mean 'name'?"],
    ),
    (
        "bad expression in mission outputs",
        """
        resources:
          a:
            type: fake.Thing
            spec: {name: a}
        outputs:
          o: "${{ resources.a.outputs.nope }}"
          p: "${{ secret.X }}"
     """,
        [
            ":9:3: outputs.o: ${{ resources.a.outputs.nope }}: fake.Thing has no output 'nope'",
            ":10:3: outputs.p: unknown root 'secret'",
            "did you mean 'secrets'?",
        ],
    ),
    (
        "depends_on a missing id",
        """
        resources:
          t3:
            type: fake.Thing
            spec: {name: a}
          b:
            type: fake.Thing
            spec: {name: b}
            depends_on: [t3, t33]
     """,
        [
            ":11:22: resources.b.depends_on.1: no resource 't33' in this mission [fake.Thing]",
            "hint: did you mean 't3'?",
        ],
    ),
    (
        "two-member cycle through depends_on and a reference",
        """
        resources:
          c1:
            type: fake.Thing
            spec: {name: "${{ resources.c2.outputs.name }}"}
          c2:
            type: fake.Thing
            spec: {name: x}
            depends_on: [c1]
     """,
        [
            ":5:3: resources.c1: dependency cycle: c1 → c2 → c1 (c1 at {file}:5:3; c2 at {file}:8:3) [mission]",
            "hint: break the cycle",
        ],
    ),
    (
        "three-member cycle lists every member with its line",
        """
        resources:
          free:
            type: fake.Thing
            spec: {name: f}
          a:
            type: fake.Thing
            spec: {name: a}
            depends_on: [c]
          b:
            type: fake.Thing
            spec: {name: "${{ resources.a.outputs.id }}"}
          c:
            type: fake.Thing
            spec: {name: c}
            depends_on: [b]
     """,
        ["dependency cycle: a → c → b → a (a at {file}:8:3; c at {file}:15:3; b at {file}:12:3)"],
    ),
    (
        "self reference is a cycle",
        """
        resources:
          a:
            type: fake.Thing
            spec: {name: a, value: "${{ resources.a.outputs.id }}"}
     """,
        [":5:3: resources.a: dependency cycle: a → a"],
    ),
]

HEADER = "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: m}\n"


def _text(case_id: str, body: str | None) -> str:
    import textwrap

    if case_id == "wrong apiVersion and kind":
        return "apiVersion: skyform/v2\nkind: Mision\nmetadata: {name: m}\nresources: {}\n"
    if case_id == "bad mission name":
        return "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: Bad_Name}\nresources: {}\n"
    return HEADER + textwrap.dedent(body or "").lstrip("\n")


@pytest.mark.parametrize("case_id,body,expected", [pytest.param(*c, id=c[0]) for c in CASES])
def test_invalid_spec_reports_location_path_message_and_type(ws, case_id, body, expected):
    """Each invalid mission -> exit 3 and the documented `file:line:col: path: message [type]` lines."""
    f = ws.raw(_text(case_id, body))
    ran = ws.run("validate", f).clean()
    assert ran.code == 3, str(ran)
    if expected is None:
        expected = [
            ":3:12: metadata.name: 'Bad_Name' is not a valid name: a mission name is 1-63 lower-case "
            "letters, digits, '.', '_' and '-', starting and ending with a letter or digit [mission]"
        ]
    for fragment in expected:
        fragment = fragment.replace("{file}", str(f))
        if fragment.startswith(":"):
            fragment = str(f) + fragment
        assert fragment in ran.err, f"{fragment!r} missing\n{ran}"


def test_all_errors_are_reported_at_once_in_source_order(ws):
    """Provider, kind, schema, semantic, expression, depends_on and cycle errors all come in one run."""
    f = ws.raw(
        HEADER
        + """resources:
  t1:
    type: fake.Thingg
    spec: {name: a}
  t2:
    type: fakke.Thing
    spec: {name: a}
  t3:
    type: fake.Thing
    spec: {name: a, even: 3, colour: red}
  t4:
    type: fake.Thing
    spec: {name: "${{ varr.x }}", value: "${{ resources.t33.outputs.id }}"}
    depends_on: [nope]
  c1:
    type: fake.Thing
    spec: {name: "${{ resources.c2.outputs.name }}"}
  c2:
    type: fake.Thing
    spec: {name: x}
    depends_on: [c1]
"""
    )
    ran = ws.run("validate", "--json", f).clean()
    assert ran.code == 3, str(ran)
    errors = json.loads(ran.out)["errors"]
    assert [(e["line"], e["path"]) for e in errors] == [
        (6, "resources.t1.type"),
        (9, "resources.t2.type"),
        (13, "resources.t3.spec.even"),
        (13, "resources.t3.spec.colour"),
        (16, "resources.t4.spec.name"),
        (16, "resources.t4.spec.value"),
        (17, "resources.t4.depends_on.0"),
        (18, "resources.c1"),
    ]
    text = ws.run("validate", f)
    assert "8 errors found." in text.err


def test_valid_mission_passes_and_says_so(ws):
    """A valid mission exits 0 and names the mission and its resource count."""
    f = ws.write("""
        variables: {n: 4}
        resources:
          a:
            type: fake.Thing
            spec: {name: a, even: "${{ var.n }}"}
          b:
            type: fake.Job
            spec: {name: "${{ resources.a.outputs.name }}-job", duration: 1}
            lifecycle: {timeout: 1h30m, retries: 0, on_failure: continue, ignore_changes: [value]}
    """)
    ran = ws.run("validate", f)
    assert ran.code == 0, str(ran)
    assert "Valid. Mission 'mission': 2 resource(s) in 1 file(s)." in ran.out


def test_validation_verdict_is_not_cached_across_a_changed_file(ws):
    """The content-hash cache never hides a new error: editing the file re-validates it."""
    f = ws.write("resources:\n  a: {type: fake.Thing, spec: {name: a, even: 2}}\n")
    assert ws.run("validate", f).code == 0
    assert ws.run("validate", f).code == 0  # served from the cache
    f.write_text(f.read_text().replace("even: 2", "even: 3"))
    ran = ws.run("validate", f)
    assert ran.code == 3 and "3 is odd" in ran.err


def test_missing_secret_is_not_a_validation_error_but_blocks_plan(ws):
    """`validate` accepts an unset secret (Unknown); `plan` refuses it naming the variable to export."""
    f = ws.write("""
        resources:
          a:
            type: fake.Thing
            spec: {name: a, value: "${{ secrets.API_KEY }}"}
    """)
    assert ws.run("validate", f).code == 0
    ran = ws.run("plan", "--sandbox", f).clean()
    assert ran.code == 3, str(ran)
    assert "secret 'API_KEY' is not set" in ran.err and "SKYFORM_SECRET_API_KEY" in ran.err


def test_every_stage_of_errors_comes_in_one_run(ws):
    """The mission that took four runs to fix: a misspelt resource-level key (envelope), a bad
    reference, an out-of-range value, expression types that cannot fit (a list where an
    integer goes, text where a number goes), an unknown ignore_changes field and a glob that
    matches nothing - all in one `validate`, in line order."""
    f = ws.raw(
        HEADER
        + """resources:
  photos:
    type: local.Files
    descriptoin: the flight's photos
    spec: {glob: "nothing/*.JPG"}
  job:
    type: fake.Job
    spec:
      name: "${{ resources.photoz.outputs.count }}"
      duration: -5
  thing:
    type: fake.Thing
    spec:
      name: t
      even: "${{ resources.photos.outputs.paths }}"
      cost: "about ${{ resources.job.outputs.id }}"
    lifecycle: {ignore_changes: [nmae, name.first]}
"""
    )
    ran = ws.run("validate", "--json", f).clean()
    assert ran.code == 3, str(ran)
    errors = json.loads(ran.out)["errors"]
    assert [(e["line"], e["path"]) for e in errors] == [
        (7, "resources.photos.descriptoin"),
        (8, "resources.photos.spec.glob"),
        (12, "resources.job.spec.name"),
        (13, "resources.job.spec.duration"),
        (18, "resources.thing.spec.even"),
        (19, "resources.thing.spec.cost"),
        (20, "resources.thing.lifecycle.ignore_changes.0"),
        (20, "resources.thing.lifecycle.ignore_changes.1"),
    ], errors
    text = ws.run("validate", f).err
    for fragment in [
        "resources.photos.descriptoin: unknown field 'descriptoin' (did you mean 'description'?)",
        f"resources.photos.spec.glob: glob 'nothing/*.JPG' matches no file in {f.parent}",
        "resources.job.spec.name: ${{ resources.photoz.outputs.count }}: no resource 'photoz' in this mission",
        "resources.thing.spec.even: ${{ resources.photos.outputs.paths }} is a list (output paths of local.Files), "
        "but even must be an integer [fake.Thing]",
        "resources.thing.spec.cost: about ${{ resources.job.outputs.id }} is a string (text with an expression "
        "inside), but cost must be a number [fake.Thing]",
        "resources.thing.lifecycle.ignore_changes.0: 'nmae' is not a field of fake.Thing; its fields: name,",
        "hint: did you mean 'name'?",
        "resources.thing.lifecycle.ignore_changes.1: 'name.first' is not a field of fake.Thing ('first' is not "
        "under name)",
        "8 errors found.",
    ]:
        assert fragment in text, f"{fragment!r} missing\n{text}"


def test_expression_types_that_fit_are_accepted(ws):
    """No false alarms: an integer output into a number field, a string output into a string
    field, a secret into a string, an output the kind leaves untyped anywhere."""
    (ws.path / "data").mkdir(parents=True, exist_ok=True)
    (ws.path / "data" / "a.JPG").write_bytes(b"jpg")
    f = ws.write("""
        resources:
          photos: {type: local.Files, spec: {glob: "data/*.JPG"}}
          a:
            type: fake.Thing
            spec:
              name: "${{ resources.photos.outputs.manifest_sha256 }}"
              cost: "${{ resources.photos.outputs.count }}"
          b:
            type: fake.Thing
            spec: {name: "${{ secrets.NAME }}", even: "${{ resources.a.outputs.value }}"}
            lifecycle: {ignore_changes: [name, value]}
    """)
    ran = ws.run("validate", f)
    assert ran.code == 0, str(ran)


def test_errors_of_a_mission_directory_are_grouped_by_file_in_line_order(ws):
    """Two files of one mission, a misspelt resource key in the second: every error of both
    files comes in one run, the first file's in line order, then the second's."""
    ws.raw(
        HEADER
        + """resources:
  a:
    type: fake.Thing
    spec: {name: "${{ resources.bb.outputs.id }}", even: 3}
""",
        file="a.yaml",
    )
    second = ws.raw(
        """resources:
  b:
    type: fake.Thing
    spec: {name: ""}
    lifecycel: {retries: 1}
""",
        file="b.yaml",
    )
    ran = ws.run("validate", "--json", ws.path).clean()
    assert ran.code == 3, str(ran)
    found = [(Path(e["file"]).name, e["line"], e["path"]) for e in json.loads(ran.out)["errors"]]
    assert found == [
        ("a.yaml", 7, "resources.a.spec.name"),
        ("a.yaml", 7, "resources.a.spec.even"),
        ("b.yaml", 4, "resources.b.spec.name"),
        ("b.yaml", 5, "resources.b.lifecycel"),
    ], found
    assert str(second) in ws.run("validate", ws.path).err
