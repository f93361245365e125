"""nodeodm.Task spec validation: one table of (spec, message fragment, path), schema plus check()."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import jsonschema
import pytest
from nodeodm_support import KIND

from skyform.providers import CheckContext
from skyform.spec.values import Unknown
from skyform_nodeodm.provider import PROVIDER

VALIDATOR = jsonschema.Draft202012Validator(KIND.spec_schema)
IMGS = ["photos/DJI_0000.JPG", "photos/DJI_0001.JPG"]

# (spec, expected message fragment, path of the problem) — None: the spec is valid
CASES = [
    ({"images": IMGS}, None, None),
    (
        {
            "images": IMGS,
            "name": "a12",
            "options": {"dsm": True, "orthophoto-resolution": 2.5, "boundary": {"type": "Polygon", "coordinates": []}},
            "gcp": "gcp.txt",
            "geo": "geo.txt",
            "skip_post_processing": True,
            "outputs": ["odm_orthophoto/odm_orthophoto.tif"],
            "webhook": "https://hooks.example.com/odm",
        },
        None,
        None,
    ),
    ({"images": Unknown("resources.photos.outputs.paths")}, None, None),
    ({"images": [Unknown("resources.photos.outputs.paths")]}, None, None),
    ({}, "'images' is a required property", ()),
    ({"images": []}, "should be non-empty", ("images",)),
    ({"images": [""]}, "should be non-empty", ("images", 0)),
    ({"images": IMGS, "colour": "red"}, "Additional properties are not allowed ('colour' was unexpected)", ()),
    ({"images": IMGS, "name": ""}, "should be non-empty", ("name",)),
    ({"images": IMGS, "options": {"DSM": True}}, "'DSM' does not match", ("options",)),
    ({"images": IMGS, "options": {"dsm": None}}, "None is not of type", ("options", "dsm")),
    ({"images": IMGS, "gcp": "gcp.csv"}, "'gcp.csv' does not match '\\\\.txt$'", ("gcp",)),
    ({"images": IMGS, "align": "dem.png"}, "does not match", ("align",)),
    ({"images": IMGS, "seed": "seed.tar"}, "does not match", ("seed",)),
    ({"images": IMGS, "skip_post_processing": "yes"}, "'yes' is not of type 'boolean'", ("skip_post_processing",)),
    ({"images": IMGS, "outputs": []}, "should be non-empty", ("outputs",)),
    ({"images": IMGS, "outputs": ["/etc/passwd"]}, "does not match", ("outputs", 0)),
    ({"images": IMGS, "outputs": ["../secret"]}, "'../secret' leaves the project directory", ("outputs", 0)),
    ({"images": IMGS, "webhook": "ftp://x"}, "does not match", ("webhook",)),
    (
        {"images": ["photos/DJI_0000.JPG", "other/DJI_0000.JPG"]},
        "two images are named 'DJI_0000.JPG' (also images[0]): the node keeps only one file per name",
        ("images", 1),
    ),
    ({"images": ["photos/DJI_0000.JPG", "gcp.txt"]}, "'gcp.txt' is not an image", ("images", 1)),
    ({"images": ["photos/missing.JPG"]}, "image file not found: photos/missing.JPG", ("images", 0)),
    ({"images": IMGS, "geo": "nowhere.txt"}, "geo file not found: nowhere.txt", ("geo",)),
]


def problems(spec: dict, mission: Path) -> list[tuple[str, tuple]]:
    found = [
        (e.message, tuple(e.absolute_path))
        for e in VALIDATOR.iter_errors(spec)
        if not _unknown_at(spec, tuple(e.absolute_path))
    ]
    if not found:
        ctx = CheckContext(today=date(2026, 11, 23), mission_dir=mission, address="reconstruct")
        found = [(i.message, tuple(i.path)) for i in KIND.check(spec, ctx)]
    return found


def _unknown_at(spec, path) -> bool:
    """The engine validates fields holding unknown values only once they are resolved."""
    value = spec
    for key in path:
        if isinstance(value, Unknown):
            return True
        value = value[key]
    return isinstance(value, Unknown)


@pytest.mark.parametrize(("spec", "fragment", "path"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_spec_validation_table(mission, spec, fragment, path):
    """Each spec gives exactly the documented problem (or none) at the documented path."""
    (mission / "other").mkdir()
    (mission / "other" / "DJI_0000.JPG").write_bytes(b"\xff\xd8")
    (mission / "geo.txt").write_text("EPSG:4326\n")
    found = problems(spec, mission)
    if fragment is None:
        assert found == []
    else:
        assert any(fragment in message and p == path for message, p in found), found


def test_settings_schema_accepts_one_url_or_a_node_list():
    """Either url (+token) or nodes[{url, token}], never both; no query string in URLs."""
    v = jsonschema.Draft202012Validator(PROVIDER.settings_schema)
    assert v.is_valid({"url": "http://127.0.0.1:3000", "token": "abc"})
    assert v.is_valid({"nodes": [{"url": "http://127.0.0.1:3000"}, {"url": "http://127.0.0.1:3001", "token": "t"}]})
    assert not v.is_valid({"url": "http://127.0.0.1:3000", "nodes": [{"url": "http://127.0.0.1:3001"}]})
    assert not v.is_valid({"url": "http://127.0.0.1:3000?token=abc"})
    assert not v.is_valid({})
