"""The ``cvat.Job`` spec: its schema and the rules of ground-truth frame selection.

CVAT's three selection methods each take their own parameters: ``random_uniform`` exactly one
of ``frame_count``/``frame_share``, ``random_per_job`` exactly one of
``frames_per_job_count``/``frames_per_job_share``, ``manual`` a list of ``frames``;
``random_seed`` applies to the random methods. The offline rules are in :func:`check_job`;
those that need the task (frames within it, counts within its size) in :func:`check_against_task`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from skyform.errors import Issue
from skyform.spec.values import is_known

STAGES = ["annotation", "validation", "acceptance"]
STATES = ["new", "in progress", "completed", "rejected"]
METHODS = {
    "random_uniform": ("frame_count", "frame_share"),
    "random_per_job": ("frames_per_job_count", "frames_per_job_share"),
    "manual": ("frames",),
}
SELECTION_FIELDS = ("frame_count", "frame_share", "frames_per_job_count", "frames_per_job_share", "frames")
GROUND_TRUTH_FIELDS = ("frame_selection_method", "random_seed") + SELECTION_FIELDS
SHARE = {"type": "number", "exclusiveMinimum": 0, "maximum": 1}

SPEC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": (
        "A CVAT job: a ground-truth job created in a task (type ground_truth), or one of the "
        "task's annotation jobs, picked by index or frame; both with assignee, stage and state."
    ),
    "required": ["task_id"],
    "properties": {
        "task_id": {"type": "integer", "minimum": 1, "description": "The task the job belongs to."},
        "type": {
            "enum": ["annotation", "ground_truth"],
            "description": "ground_truth creates a validation job; annotation (default) manages an existing one.",
        },
        "index": {
            "type": "integer",
            "minimum": 0,
            "description": "Annotation job by position (0 = the job with the first frames).",
        },
        "start_frame": {
            "type": "integer",
            "minimum": 0,
            "description": "Annotation job containing this frame (with stop_frame: spanning exactly).",
        },
        "stop_frame": {
            "type": "integer",
            "minimum": 0,
            "description": "With start_frame: the annotation job spanning exactly start_frame..stop_frame.",
        },
        "frame_selection_method": {"enum": list(METHODS), "description": "How ground-truth frames are chosen."},
        "frame_count": {"type": "integer", "minimum": 1, "description": "random_uniform: number of frames."},
        "frame_share": {**SHARE, "description": "random_uniform: share of the task's frames, in (0, 1]."},
        "frames_per_job_count": {
            "type": "integer",
            "minimum": 1,
            "description": "random_per_job: frames taken from each annotation job.",
        },
        "frames_per_job_share": {**SHARE, "description": "random_per_job: share of each job's frames, in (0, 1]."},
        "frames": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "integer", "minimum": 0},
            "description": "manual: the task frame numbers (0-based).",
        },
        "random_seed": {
            "type": "integer",
            "minimum": 0,
            "description": "Seed of the random methods, for reproducibility.",
        },
        "assignee": {
            "type": ["string", "null"],
            "minLength": 1,
            "description": "Username of the annotator (null: nobody); resolved to a user id at plan time.",
        },
        "stage": {"enum": STAGES, "description": "Workflow stage."},
        "state": {"enum": STATES, "description": "Workflow state within the stage."},
    },
    "dependentRequired": {"stop_frame": ["start_frame"]},
    "if": {"required": ["type"], "properties": {"type": {"const": "ground_truth"}}},
    "then": {
        "required": ["frame_selection_method"],
        "not": {"anyOf": [{"required": ["index"]}, {"required": ["start_frame"]}]},
    },
    "else": {"oneOf": [{"required": ["index"]}, {"required": ["start_frame"]}]},
}

OUTPUTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"},
        "task_id": {"type": "integer"},
        "type": {"type": "string"},
        "start_frame": {"type": "integer"},
        "stop_frame": {"type": "integer"},
        "frame_count": {"type": "integer"},
        "assignee": {"type": ["string", "null"]},
        "stage": {"type": "string"},
        "state": {"type": "string"},
        "url": {"type": "string"},
    },
    "required": ["id", "task_id", "type", "start_frame", "stop_frame", "frame_count", "stage", "state", "url"],
}


def is_ground_truth(spec: Mapping[str, Any]) -> bool:
    """Whether the spec creates a ground-truth job (rather than managing an annotation job)."""
    return spec.get("type") == "ground_truth"


def check_job(spec: Mapping[str, Any]) -> Iterable[Issue]:
    """Method ↔ parameter consistency (the schema covers types, ranges and required fields)."""
    if not is_ground_truth(spec):
        start, stop = spec.get("start_frame"), spec.get("stop_frame")
        if isinstance(start, int) and isinstance(stop, int) and stop < start:
            yield Issue(("stop_frame",), f"stop_frame {stop} is before start_frame {start}")
        for name in GROUND_TRUTH_FIELDS:
            if name in spec:
                yield Issue(
                    (name,),
                    f"{name} applies only to ground-truth jobs (type: ground_truth)",
                    hint="annotation jobs are made by CVAT from the task's segment_size",
                )
        return
    method = spec.get("frame_selection_method")
    if method not in METHODS or not is_known(method):
        return
    own = METHODS[method]
    for name in SELECTION_FIELDS:
        if name in spec and name not in own:
            yield Issue((name,), f"{name} does not apply to the {method} method; it takes {' or '.join(own)}")
    given = [name for name in own if name in spec]
    if method == "manual":
        if not given:
            yield Issue(("frames",), "the manual method needs frames (a list of task frame numbers)")
        if "random_seed" in spec:
            yield Issue(("random_seed",), "random_seed applies only to the random_uniform and random_per_job methods")
    elif len(given) == 0:
        yield Issue(("frame_selection_method",), f"the {method} method needs one of {' or '.join(own)}")
    elif len(given) == 2:
        yield Issue((own[1],), f"give either {own[0]} or {own[1]} for the {method} method, not both")


def check_against_task(
    spec: Mapping[str, Any], size: int, segment_size: int, ranges: list[tuple[int, int]]
) -> Iterable[Issue]:
    """Rules that need the task: frames within it, counts within its size, the job picked exists."""
    if is_ground_truth(spec):
        frames = spec.get("frames")
        if isinstance(frames, list) and is_known(frames):
            outside = [f for f in frames if isinstance(f, int) and f >= size]
            if outside:
                yield Issue(("frames",), f"frame(s) {outside} are outside the task, which has frames 0-{size - 1}")
        count = spec.get("frame_count")
        if isinstance(count, int) and count > size:
            yield Issue(("frame_count",), f"frame_count {count} is more than the task's {size} frames")
        per_job = spec.get("frames_per_job_count")
        if isinstance(per_job, int) and per_job > segment_size:
            yield Issue(
                ("frames_per_job_count",),
                f"frames_per_job_count {per_job} is more than the {segment_size} frames of a job",
            )
        return
    index, start, stop = spec.get("index"), spec.get("start_frame"), spec.get("stop_frame")
    job_count = len(ranges)
    if isinstance(index, int) and index >= job_count:
        yield Issue(
            ("index",), f"the task has {job_count} annotation job(s); index {index} does not exist (0-{job_count - 1})"
        )
    if isinstance(start, int) and start >= size:
        yield Issue(("start_frame",), f"frame {start} is outside the task, which has frames 0-{size - 1}")
    elif isinstance(start, int) and isinstance(stop, int) and (start, stop) not in ranges:
        yield Issue(
            ("stop_frame",), f"no annotation job spans frames {start}-{stop}; the jobs span {describe_ranges(ranges)}"
        )


def describe_ranges(ranges: list[tuple[int, int]]) -> str:
    """``0-2, 3-5``: the frame ranges of a task's annotation jobs."""
    return ", ".join(f"{a}-{b}" for a, b in ranges)
