"""The skyform provider contract suite, run against nodeodm.Task and its simulator."""

from __future__ import annotations

from nodeodm_support import JPEG

from skyform.testing.contract import ProviderContract
from skyform_nodeodm.provider import PROVIDER

IMAGES = [f"photos/DJI_{i:04d}.JPG" for i in range(3)]


class TestTaskContract(ProviderContract):
    provider = PROVIDER
    kind = "Task"
    clock_factor = 20000.0
    files = {path: JPEG + bytes([i]) for i, path in enumerate(IMAGES)}
    valid_spec = {"name": "contract", "images": IMAGES, "options": {"dsm": True, "pc-quality": "lowest"}}
    update_spec = {**valid_spec, "options": {"dsm": True, "dtm": True, "pc-quality": "lowest"}}
    invalid_specs = [
        ({"name": "x"}, "'images' is a required property", ()),
        ({"images": IMAGES, "gcp": "gcp.csv"}, "does not match", ("gcp",)),
        (
            {"images": ["photos/DJI_0000.JPG", "photos/DJI_0000.JPG"]},
            "two images are named 'DJI_0000.JPG'",
            ("images", 1),
        ),
    ]
