"""The skyform provider contract suite, run against cvat.Project, cvat.Task and cvat.Job (ground truth).

cvat.Export and cvat.Annotations make no CVAT object of their own (the suite counts objects),
so they are covered by the lifecycle tests instead.

Two adopt tests are replaced: CVAT has no idempotency keys, so adopt matches objects created
after the intent time the engine records before create; the kit's ``Operations.adopt`` passes
"now" instead of that time. The replacements pass the recorded intent, as the engine does.
"""

from __future__ import annotations

import io
import time
import uuid

from PIL import Image

from skyform.testing.contract import ProviderContract
from skyform_cvat.provider import PROVIDER


def _png(shade: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (shade, 60, 90)).save(buf, format="PNG")
    return buf.getvalue()


class _AdoptWithIntent:
    """The contract's adopt tests with the intent time recorded before create."""

    def test_adopt_finds_the_object_created_before_a_crash(self, ops, contract_sandbox) -> None:
        """After a create whose answer was lost, adopt with the recorded intent finds that object."""
        key, intent = str(uuid.uuid4()), time.time()
        before = self.objects(contract_sandbox)
        created = ops.kind.create(self.valid(ops), ops.context(key, intent))
        adopted = ops.kind.adopt(self.valid(ops), ops.context(key, intent))
        assert adopted is not None and adopted.remote_id == created.remote_id
        assert self.objects(contract_sandbox) == before + 1

    def test_adopt_without_a_create_finds_nothing(self, ops) -> None:
        """An object made before the intent (someone else's) is never adopted."""
        ops.create(self.valid(ops))
        assert ops.kind.adopt(self.valid(ops), ops.context(str(uuid.uuid4()), time.time() + 0.001)) is None


class TestProjectContract(_AdoptWithIntent, ProviderContract):
    provider = PROVIDER
    kind = "Project"
    clock_factor = 20000.0
    valid_spec = {"name": "contract project", "labels": [{"name": "crack", "color": "#ff0000"}, {"name": "rust"}]}
    update_spec = {"name": "renamed project", "labels": [{"name": "crack", "color": "#ff0000"}, {"name": "rust"}]}
    invalid_specs = [
        ({"labels": [{"name": "a"}]}, "'name' is a required property"),
        ({"name": "p", "labels": [{"name": "a"}, {"name": "a"}]}, "label 'a' appears twice", ("labels", 1, "name")),
        ({"name": "p", "labels": [{"name": "a"}], "owner": "x"}, "('owner' was unexpected)"),
    ]


class TestTaskContract(_AdoptWithIntent, ProviderContract):
    provider = PROVIDER
    kind = "Task"
    clock_factor = 20000.0
    files = {"img/a.png": _png(10), "img/b.png": _png(90), "img/c.png": _png(200)}
    valid_spec = {
        "name": "contract task",
        "labels": [{"name": "car"}],
        "images": ["img/a.png", "img/b.png", "img/c.png"],
        "segment_size": 2,
    }
    update_spec = {
        "name": "renamed task",
        "labels": [{"name": "car"}],
        "images": ["img/a.png", "img/b.png", "img/c.png"],
        "segment_size": 2,
        "subset": "Train",
    }
    invalid_specs = [
        ({"name": "t", "images": ["img/a.png"]}, "is not valid under any of the given schemas"),
        (
            {"name": "t", "labels": [{"name": "car"}], "images": ["img/zzz.png"]},
            "no such file: img/zzz.png",
            ("images", 0),
        ),
        (
            {"name": "t", "labels": [{"name": "car"}], "images": ["img/a.png"], "segment_size": -1},
            "-1 is less than the minimum of 0",
            ("segment_size",),
        ),
    ]


TASK_FILES = {"img/a.png": _png(10), "img/b.png": _png(90), "img/c.png": _png(200), "img/d.png": _png(250)}
PARENT_TASK = {"name": "parent", "labels": [{"name": "car"}], "images": sorted(TASK_FILES), "segment_size": 2}


def _parent_task(ops) -> int:
    return ops.sibling("Task").create(PARENT_TASK).outputs["id"]


def _with_parent(spec: dict) -> dict:
    return {
        "parent": {"type": "cvat.Task", "spec": PARENT_TASK},
        "it": {"type": "cvat.Job", "spec": {**spec, "task_id": "${{ resources.parent.outputs.id }}"}},
    }


class TestGroundTruthJobContract(_AdoptWithIntent, ProviderContract):
    """cvat.Job as a ground-truth job, in a task prepared for each test."""

    provider = PROVIDER
    kind = "Job"
    clock_factor = 20000.0
    files = TASK_FILES
    valid_spec = {"type": "ground_truth", "frame_selection_method": "manual", "frames": [0, 3], "task_id": 1}
    update_spec = {
        "type": "ground_truth",
        "frame_selection_method": "manual",
        "frames": [0, 3],
        "task_id": 1,
        "assignee": "alice",
        "stage": "validation",
        "state": "in progress",
    }
    invalid_specs = [
        ({"type": "ground_truth", "task_id": 1, "frame_selection_method": "manual"}, "the manual method needs frames"),
        (
            {"type": "ground_truth", "task_id": 1, "frame_selection_method": "random_uniform", "frame_share": 2},
            "2 is greater than the maximum of 1",
            ("frame_share",),
        ),
    ]

    def prepare(self, ops):
        return {"task_id": _parent_task(ops)}

    def cli_resources(self, provider: str) -> dict:
        return _with_parent({k: v for k, v in self.valid_spec.items() if k != "task_id"})
