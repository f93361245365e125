"""Validation messages a person reads: each failing JSON Schema keyword, in the author's words.

Table-driven over `validate.messages.explain` (schema, value -> the sentence), then through
`skyform validate` for the alternatives case the issue names: no raw jsonschema text such as
"is not valid under any of the given schemas"; the closest accepted form and why it failed.
"""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from skyform.validate.messages import explain

CASES = [
    ({"type": "boolean"}, "maybe", "flag must be true or false, not the string 'maybe'"),
    ({"type": "integer"}, [1], "flag must be an integer, not a list ([1])"),
    ({"type": "object"}, [], "flag must be an object (a mapping), not a list ([])"),
    ({"type": ["string", "null"]}, 3, "flag must be a string or null, not the number 3"),
    ({"enum": ["stop", "continue"]}, "stpo", "flag must be one of 'stop', 'continue', not 'stpo'"),
    ({"const": "skyform/v1"}, "v2", "flag must be 'skyform/v1', not 'v2'"),
    ({"minimum": 0}, -1, "flag must be at least 0, not -1"),
    ({"maximum": 90}, 95.5, "flag must be at most 90, not 95.5"),
    ({"exclusiveMinimum": 0}, 0, "flag must be greater than 0, not 0"),
    ({"minLength": 1}, "", "flag must not be empty"),
    ({"maxLength": 3}, "abcd", "flag must be at most 3 characters long, not 4"),
    ({"minItems": 1}, [], "flag must list at least one item"),
    ({"minItems": 2}, [1], "flag must list at least 2 items, not 1"),
    ({"uniqueItems": True}, ["a", "a"], 'flag lists "a" more than once; each item must be unique'),
    (
        {"pattern": "^[a-z]+$", "description": "lower-case letters only"},
        "A1",
        "'A1' is not a valid flag: lower-case letters only",
    ),
    ({"multipleOf": 5}, 7, "flag must be a multiple of 5, not 7"),
    (
        {"anyOf": [{"type": "string", "minLength": 1}, {"type": "array", "minItems": 1}]},
        [],
        "flag fits none of its 2 accepted forms (a string or a list); the closest, a list, fails: flag must list at "
        "least one item",
    ),
    (
        {
            "anyOf": [
                {"type": "string", "pattern": "^[0-9]+s$", "description": "a duration such as 90s"},
                {"type": "number"},
            ]
        },
        "soon",
        "flag fits none of its 2 accepted forms (a string or a number); the closest, a string, fails: 'soon' is not "
        "a valid flag: a duration such as 90s",
    ),
]


@pytest.mark.parametrize("schema, value, expected", CASES, ids=[c[2][:40] for c in CASES])
def test_each_keyword_reads_as_a_sentence_about_the_field(schema, value, expected) -> None:
    (error,) = list(Draft202012Validator(schema).iter_errors(value))
    assert explain(error, ("resources", "a", "spec", "flag"))[0] == expected


def test_required_fields_are_named_together() -> None:
    errors = list(Draft202012Validator({"required": ["name", "images"]}).iter_errors({}))
    assert {explain(e, ("resources", "a", "spec"))[0] for e in errors} == {
        "the required fields 'name' and 'images' are missing"
    }


def test_enum_mistake_suggests_the_nearest() -> None:
    (error,) = list(Draft202012Validator({"enum": ["stop", "continue"]}).iter_errors("stpo"))
    assert explain(error, ("on_failure",))[1] == "did you mean 'stop'?"


@pytest.mark.parametrize(
    "spec, fragment",
    [
        (
            "{glob: []}",
            "resources.photos.spec.glob: glob fits none of its 2 accepted forms (a string or a list); "
            "the closest, a list, fails: glob must list at least one item [local.Files]",
        ),
        (
            "{glob: '*.JPG', paths: [a.JPG]}",
            "resources.photos.spec: the spec gives glob and paths; give only one of them [local.Files]",
        ),
        ("{min_count: 1}", "resources.photos.spec: the spec needs glob or paths [local.Files]"),
    ],
)
def test_alternatives_name_the_closest_form_through_the_cli(ws, spec: str, fragment: str) -> None:
    (ws.path / "a.JPG").parent.mkdir(parents=True, exist_ok=True)
    (ws.path / "a.JPG").write_bytes(b"jpg")
    f = ws.write(f"""
        resources:
          photos: {{type: local.Files, spec: {spec}}}
    """)
    ran = ws.run("validate", f).clean()
    assert ran.code == 3, str(ran)
    assert fragment in ran.err, ran.err
    assert "valid under" not in ran.err and "is a required property" not in ran.err
