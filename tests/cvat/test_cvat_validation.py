"""Offline validation of cvat specs: the schema plus each kind's check(), one table of cases.

Each row: (kind, spec, expected message fragment, path of the problem). A row with fragment
None is a valid spec that must raise nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from skyform.spec.values import Unknown
from skyform.testing import spec_problems
from skyform_cvat.provider import PROVIDER
from skyform_cvat.schemas import SETTINGS_SCHEMA

GT = {"type": "ground_truth", "task_id": 3}
LABELS = [{"name": "car"}]

CASES = [
    # -- cvat.Job: ground-truth frame selection ------------------------------------------------
    ("Job", {**GT, "frame_selection_method": "random_uniform", "frame_count": 5, "random_seed": 1}, None, ()),
    ("Job", {**GT, "frame_selection_method": "random_uniform", "frame_share": 0.2}, None, ()),
    ("Job", {**GT, "frame_selection_method": "random_per_job", "frames_per_job_count": 2}, None, ()),
    ("Job", {**GT, "frame_selection_method": "random_per_job", "frames_per_job_share": 1}, None, ()),
    ("Job", {**GT, "frame_selection_method": "manual", "frames": [0, 4, 9]}, None, ()),
    (
        "Job",
        {**GT, "frame_selection_method": "random_uniform"},
        "the random_uniform method needs one of frame_count or frame_share",
        ("frame_selection_method",),
    ),
    (
        "Job",
        {**GT, "frame_selection_method": "random_uniform", "frame_count": 2, "frame_share": 0.5},
        "give either frame_count or frame_share",
        ("frame_share",),
    ),
    (
        "Job",
        {**GT, "frame_selection_method": "random_uniform", "frames_per_job_count": 2},
        "frames_per_job_count does not apply to the random_uniform method",
        ("frames_per_job_count",),
    ),
    (
        "Job",
        {**GT, "frame_selection_method": "random_uniform", "frames": [1]},
        "frames does not apply to the random_uniform method",
        ("frames",),
    ),
    (
        "Job",
        {**GT, "frame_selection_method": "random_per_job"},
        "the random_per_job method needs one of frames_per_job_count or frames_per_job_share",
        ("frame_selection_method",),
    ),
    (
        "Job",
        {**GT, "frame_selection_method": "random_per_job", "frame_count": 3},
        "frame_count does not apply to the random_per_job method",
        ("frame_count",),
    ),
    (
        "Job",
        {**GT, "frame_selection_method": "random_per_job", "frames_per_job_count": 1, "frames_per_job_share": 0.1},
        "give either frames_per_job_count or frames_per_job_share",
        ("frames_per_job_share",),
    ),
    ("Job", {**GT, "frame_selection_method": "manual"}, "the manual method needs frames", ("frames",)),
    (
        "Job",
        {**GT, "frame_selection_method": "manual", "frames": [1], "random_seed": 3},
        "random_seed applies only to the random_uniform and random_per_job methods",
        ("random_seed",),
    ),
    (
        "Job",
        {**GT, "frame_selection_method": "manual", "frames": [1], "frame_share": 0.5},
        "frame_share does not apply to the manual method",
        ("frame_share",),
    ),
    (
        "Job",
        {**GT, "frame_selection_method": "random_uniform", "frame_share": 1.5},
        "1.5 is greater than the maximum of 1",
        ("frame_share",),
    ),
    (
        "Job",
        {**GT, "frame_selection_method": "random_uniform", "frame_share": 0},
        "0 is less than or equal to the minimum of 0",
        ("frame_share",),
    ),
    (
        "Job",
        {**GT, "frame_selection_method": "random_per_job", "frames_per_job_share": -0.1},
        "-0.1 is less than or equal to the minimum of 0",
        ("frames_per_job_share",),
    ),
    (
        "Job",
        {**GT, "frame_selection_method": "random_uniform", "frame_count": 0},
        "0 is less than the minimum of 1",
        ("frame_count",),
    ),
    (
        "Job",
        {**GT, "frame_selection_method": "manual", "frames": [-1]},
        "-1 is less than the minimum of 0",
        ("frames", 0),
    ),
    ("Job", {**GT, "frame_selection_method": "manual", "frames": [2, 2]}, "has non-unique elements", ("frames",)),
    (
        "Job",
        {**GT, "frame_selection_method": "bogus", "frames": [1]},
        "'bogus' is not one of ['random_uniform', 'random_per_job', 'manual']",
        ("frame_selection_method",),
    ),
    ("Job", {**GT}, "'frame_selection_method' is a required property", ()),
    ("Job", {**GT, "frame_selection_method": "manual", "frames": [1], "index": 0}, "should not be valid", ()),
    # -- cvat.Job: annotation jobs and workflow ------------------------------------------------
    ("Job", {"task_id": 3, "index": 0, "assignee": "alice", "stage": "validation", "state": "in progress"}, None, ()),
    ("Job", {"task_id": 3, "start_frame": 10, "assignee": None}, None, ()),
    ("Job", {"task_id": 3, "start_frame": 10, "stop_frame": 19}, None, ()),
    (
        "Job",
        {"task_id": 3, "start_frame": 10, "stop_frame": 9},
        "stop_frame 9 is before start_frame 10",
        ("stop_frame",),
    ),
    ("Job", {"task_id": 3, "index": 1, "stop_frame": 9}, "'start_frame' is a dependency of 'stop_frame'", ()),
    ("Job", {"task_id": 3}, "is not valid under any of the given schemas", ()),
    ("Job", {"task_id": 3, "index": 0, "start_frame": 4}, "is valid under each of", ()),
    (
        "Job",
        {"task_id": 3, "index": 0, "frame_count": 4},
        "frame_count applies only to ground-truth jobs",
        ("frame_count",),
    ),
    (
        "Job",
        {"task_id": 3, "index": 0, "stage": "review"},
        "'review' is not one of ['annotation', 'validation', 'acceptance']",
        ("stage",),
    ),
    (
        "Job",
        {"task_id": 3, "index": 0, "state": "in_progress"},
        "'in_progress' is not one of ['new', 'in progress', 'completed', 'rejected']",
        ("state",),
    ),
    (
        "Job",
        {"task_id": 3, "index": 0, "type": "replica"},
        "'replica' is not one of ['annotation', 'ground_truth']",
        ("type",),
    ),
    # -- cvat.Task -----------------------------------------------------------------------------
    ("Task", {"name": "t", "labels": LABELS, "images": ["img/a.png"]}, None, ()),
    ("Task", {"name": "t", "project_id": 1, "images": "img/a.png", "segment_size": 5, "overlap": 2}, None, ()),
    ("Task", {"name": "t", "images": ["img/a.png"]}, "is not valid under any of the given schemas", ()),
    (
        "Task",
        {"name": "t", "project_id": 1, "labels": LABELS, "images": ["img/a.png"]},
        "is not valid under any of the given schemas",
        (),
    ),
    (
        "Task",
        {"name": "t", "labels": LABELS, "images": ["img/missing.png"]},
        "no such file: img/missing.png",
        ("images", 0),
    ),
    (
        "Task",
        {"name": "t", "labels": LABELS, "images": ["img/a.png"], "segment_size": 4, "overlap": 4},
        "overlap 4 must be smaller than segment_size 4",
        ("overlap",),
    ),
    (
        "Task",
        {"name": "t", "labels": LABELS, "images": ["img/a.png"], "image_quality": 101},
        "101 is greater than the maximum of 100",
        ("image_quality",),
    ),
    (
        "Task",
        {"name": "t", "labels": LABELS, "images": []},
        "[] is not valid under any of the given schemas",
        ("images",),
    ),
    ("Task", {"name": "", "labels": LABELS, "images": ["img/a.png"]}, "should be non-empty", ("name",)),
    # -- cvat.Project labels -------------------------------------------------------------------
    ("Project", {"name": "p", "labels": LABELS}, None, ()),
    ("Project", {"name": "p", "labels": []}, "should be non-empty", ("labels",)),
    (
        "Project",
        {"name": "p", "labels": [{"name": "car"}, {"name": "car"}]},
        "label 'car' appears twice",
        ("labels", 1, "name"),
    ),
    (
        "Project",
        {"name": "p", "labels": [{"name": "car", "color": "red"}]},
        "does not match '^#[0-9a-fA-F]{6}$'",
        ("labels", 0, "color"),
    ),
    (
        "Project",
        {"name": "p", "labels": [{"name": "car", "attributes": [{"name": "kind", "input_type": "select"}]}]},
        "a select attribute needs at least one value",
        ("labels", 0, "attributes", 0, "values"),
    ),
    (
        "Project",
        {
            "name": "p",
            "labels": [{"name": "car", "attributes": [{"name": "n", "input_type": "number", "values": ["1", "9"]}]}],
        },
        "a number attribute needs values [min, max, step]",
        ("labels", 0, "attributes", 0, "values"),
    ),
    (
        "Project",
        {
            "name": "p",
            "labels": [
                {
                    "name": "car",
                    "attributes": [{"name": "k", "input_type": "radio", "values": ["a"], "default_value": "b"}],
                }
            ],
        },
        "default_value 'b' is not one of ['a']",
        ("labels", 0, "attributes", 0, "default_value"),
    ),
    (
        "Project",
        {"name": "p", "labels": [{"name": "car", "attributes": [{"name": "k", "input_type": "slider", "values": []}]}]},
        "'slider' is not one of",
        ("labels", 0, "attributes", 0, "input_type"),
    ),
    # -- cvat.Annotations and cvat.Export ------------------------------------------------------
    ("Annotations", {"task_id": 1, "format": "CVAT 1.1", "file": "img/a.png"}, None, ()),
    (
        "Annotations",
        {"task_id": 1, "job_id": 2, "format": "CVAT 1.1", "file": "img/a.png"},
        "is not valid under any of the given schemas",
        (),
    ),
    ("Annotations", {"task_id": 1, "format": "CVAT 1.1", "file": "nope.xml"}, "no such file: nope.xml", ("file",)),
    (
        "Annotations",
        {"project_id": 1, "format": "CVAT 1.1", "file": "img/a.png"},
        "Additional properties are not allowed ('project_id' was unexpected)",
        (),
    ),
    ("Export", {"project_id": 1, "format": "COCO 1.0", "include_images": True, "filename": "a12 coco.zip"}, None, ()),
    ("Export", {"format": "COCO 1.0"}, "is not valid under any of the given schemas", ()),
    ("Export", {"task_id": 1, "format": "COCO 1.0", "filename": "../up.zip"}, "does not match", ("filename",)),
]


@pytest.fixture
def mission_dir(tmp_path: Path) -> Path:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.png").write_bytes(b"\x89PNG")
    return tmp_path


@pytest.mark.parametrize(
    "kind_name, spec, fragment, path", CASES, ids=[f"{c[0]}-{i}-{(c[2] or 'valid')[:30]}" for i, c in enumerate(CASES)]
)
def test_spec_validation(kind_name, spec, fragment, path, mission_dir) -> None:
    """The schema and check() accept valid specs and reject invalid ones with the message the user sees."""
    kind = PROVIDER.kind(kind_name)
    problems = spec_problems(kind, spec, mission_dir)
    if fragment is None:
        assert problems == []
        return
    matching = [p for p in problems if fragment in p[1]]
    assert matching, f"no message contains {fragment!r}: {problems}"
    if path:
        assert tuple(path) in [p[0] for p in matching], matching


SETTINGS = [
    ({"url": "https://cvat.example", "access_token": "t0ken"}, True),
    ({"url": "https://cvat.example", "username": "u", "password": "p", "organization": "lab"}, True),
    ({"url": "https://cvat.example"}, False),
    ({"url": "https://cvat.example", "username": "u"}, False),
    ({"url": "https://cvat.example", "access_token": "t", "username": "u", "password": "p"}, False),
    ({"url": "cvat.example", "access_token": "t"}, False),
    ({"url": "https://cvat.example", "access_token": "t", "token": "x"}, False),
]


@pytest.mark.parametrize("settings, valid", SETTINGS)
def test_settings_need_a_token_or_username_and_password(settings, valid) -> None:
    """Provider settings: url plus exactly one way to log in (a token, or username and password)."""
    errors = list(Draft202012Validator(SETTINGS_SCHEMA).iter_errors(settings))
    assert (errors == []) is valid, [e.message for e in errors]


def test_secrets_are_declared_secret() -> None:
    """access_token and password are redacted and never stored."""
    assert PROVIDER.secret_settings == {"access_token", "password"}


def test_schemas_are_valid_draft_2020_12() -> None:
    """Every kind's spec and outputs schema is a valid Draft 2020-12 schema."""
    for kind in PROVIDER.kinds:
        Draft202012Validator.check_schema(kind.spec_schema)
        Draft202012Validator.check_schema(kind.outputs_schema)
    Draft202012Validator.check_schema(SETTINGS_SCHEMA)


@pytest.mark.parametrize(
    "kind_name, spec",
    [
        ("Job", {**GT, "frame_selection_method": Unknown("var.m"), "frame_count": 3, "frame_share": 0.1}),
        ("Job", {**GT, "frame_selection_method": "manual", "frames": Unknown("var.frames")}),
        ("Task", {"name": "t", "labels": LABELS, "images": Unknown("resources.photos.outputs.paths")}),
        ("Task", {"name": "t", "labels": LABELS, "images": [Unknown("resources.ortho.outputs.path")]}),
        ("Project", {"name": "p", "labels": Unknown("var.labels")}),
    ],
)
def test_check_skips_values_known_only_after_apply(kind_name, spec, mission_dir) -> None:
    """check() says nothing about a value that is still Unknown at validate time."""
    from datetime import date

    from skyform.providers import CheckContext

    ctx = CheckContext(today=date.today(), mission_dir=mission_dir, address="x")
    assert list(PROVIDER.kind(kind_name).check(spec, ctx)) == []
