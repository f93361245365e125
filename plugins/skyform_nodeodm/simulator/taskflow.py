"""How a simulated NodeODM task moves through its states, computed from stored timestamps.

A committed task is RUNNING (20) while it initialises, then QUEUED (10) until one of the
node's ``maxParallelTasks`` slots is free, then RUNNING while ODM processes it, then
COMPLETED (40), or FAILED (30) partway when its fate says so; a "stuck" task never ends.
Nothing runs in the background: :func:`advance` replays the events that happened between
the last request and now, in time order, so the queue behaves like the real node's.
"""

from __future__ import annotations

import time
from typing import Any

from skyform.sandbox.clock import SimClock

QUEUED, RUNNING, FAILED, COMPLETED, CANCELED = 10, 20, 30, 40, 50
STAGES = [
    "dataset",
    "opensfm",
    "openmvs",
    "odm_filterpoints",
    "odm_meshing",
    "mvs_texturing",
    "odm_georeferencing",
    "odm_dem",
    "odm_orthophoto",
    "odm_report",
    "odm_postprocess",
]
ENGINE_VERSION = "3.5.5"
FAILURE_LINES = [
    "[ERROR]   The program could not process this dataset using the current settings. "
    "Check that the images have enough overlap, that there are enough recognizable features "
    "and that the images are in focus. The program will now exit.",
]


def init_seconds(images: int) -> float:
    """Simulated seconds a task spends initialising (moving files into place)."""
    return 10.0 + 0.2 * images


def processing_seconds(task: dict[str, Any]) -> float:
    """Simulated seconds ODM needs for a task: grows with the images and the quality asked."""
    factor = 1.0
    for opt in task["options"]:
        if opt["name"] == "pc-quality":
            factor *= {"ultra": 4, "high": 2, "medium": 1, "low": 0.5, "lowest": 0.25}.get(opt["value"], 1)
        if opt["name"] == "fast-orthophoto" and opt["value"] is True:
            factor *= 0.5
    return (90.0 + 15.0 * task["imagesCount"]) * factor


def start_run(task: dict[str, Any], now: float, clock: SimClock, fate: str, *, initialise: bool) -> None:
    """(Re)start a task's processing run: initialising first on creation, queued on restart."""
    task.update(fate=fate, progress=0.0, processing_time=-1, error_message=None, started=None, finished=None, output=[])
    if initialise:
        task["phase"] = "init"
        task["init_end"] = now + clock.real(init_seconds(task["imagesCount"]))
    else:
        task["phase"] = "queued"
        task["queued"] = now


def _finish_at(task: dict[str, Any], clock: SimClock) -> float | None:
    if task["fate"] == "stuck":
        return None
    share = 0.4 if task["fate"] == "fail" else 1.0
    return task["started"] + clock.real(processing_seconds(task) * share)


def advance(
    tasks: dict[str, dict[str, Any]], data: dict[str, Any], clock: SimClock, max_parallel: int, now: float | None = None
) -> list[dict[str, Any]]:
    """Apply every state change due up to ``now``, in time order; returns the runs that ended."""
    now = time.time() if now is None else now
    ended: list[dict[str, Any]] = []
    last = max(data.get("slot_freed", 0.0), 0.0)
    while True:
        events: list[tuple[float, str, dict[str, Any]]] = []
        running = [t for t in tasks.values() if t["phase"] == "running"]
        for t in tasks.values():
            if t["phase"] == "init":
                events.append((t["init_end"], "queue", t))
        for t in running:
            end = _finish_at(t, clock)
            if end is not None:
                events.append((end, "finish", t))
        queued = sorted(
            (t for t in tasks.values() if t["phase"] == "queued"), key=lambda t: (t["queued"], t["dateCreated"])
        )
        if queued and len(running) < max_parallel:
            events.append((max(queued[0]["queued"], last), "start", queued[0]))
        if not events:
            return ended
        when, what, task = min(events, key=lambda e: e[0])
        if when > now:
            return ended
        last = max(last, when)
        if what == "queue" and task["fate"] == "init_error":
            # e.g. too many images: found when initialisation ends; no processing, no webhook
            task.update(phase="failed", error_message=task["init_error"], finished=when)
            task["output"].append(task["init_error"])
        elif what == "queue":
            task.update(phase="queued", queued=when)
        elif what == "start":
            task.update(phase="running", started=when)
        else:
            _end(task, when, clock)
            ended.append(task)


def _end(task: dict[str, Any], when: float, clock: SimClock) -> None:
    task["processing_time"] = int((when - task["started"]) * clock.factor * 1000)
    task["output"] = stage_lines(task, 1.0 if task["fate"] == "ok" else 0.4)
    task["finished"] = when
    if task["fate"] == "ok":
        task.update(phase="completed", progress=100.0, has_zip=True, zip_run=task.get("run", 0))
        task["output"] += ["[INFO]    No more stages to run"]
        if not task.get("skipPostProcessing"):
            task["output"] += ["Postprocessing: done (•̀ᴗ•́)و!"]  # scripts/postprocess.sh
        task["output"] += ["Compressing all.zip\n"]  # Task.js pushes it with its newline
    else:
        task.update(phase="failed", error_message="Cannot process dataset", progress=40.0)
        task["output"] += FAILURE_LINES


def stage_lines(task: dict[str, Any], fraction: float) -> list[str]:
    """The console output of ODM up to ``fraction`` of the run."""
    lines = [f"[INFO]    Initializing ODM {ENGINE_VERSION}", "[INFO]    =============="]
    lines += [f"[INFO]    {o['name']}: {o['value']}" for o in task["options"]]
    lines.append("[INFO]    ==============")
    done = int(len(STAGES) * fraction + 1e-9)
    for i, stage in enumerate(STAGES[: max(1, min(len(STAGES), done + 1))]):
        lines.append(f"[INFO]    Running {stage} stage")
        if stage == "dataset":
            lines.append(f"[INFO]    Found {task['imagesCount']} usable images")
        if i < done:
            lines.append(f"[INFO]    Finished {stage} stage")
    return lines


def view(task: dict[str, Any], clock: SimClock) -> tuple[int, float, int, list[str]]:
    """(status code, progress, processingTime ms, output lines) as the node reports them now."""
    phase = task["phase"]
    if phase == "init":
        return RUNNING, 0.0, -1, list(task["output"])
    if phase == "queued":
        return QUEUED, 0.0, -1, list(task["output"])
    if phase == "running":
        total = processing_seconds(task)
        elapsed = clock.elapsed(task["started"])
        fraction = min(elapsed / total, 0.999) if total else 0.999
        if task["fate"] == "stuck":
            fraction = min(fraction, 0.62)  # stuck tasks hang in a dense matching step
        progress = round(fraction * 100, 2)
        return RUNNING, progress, int(elapsed * 1000), stage_lines(task, fraction)
    code = {"completed": COMPLETED, "failed": FAILED, "canceled": CANCELED}[phase]
    return code, float(task["progress"]), int(task["processing_time"]), list(task["output"])


def cancel(task: dict[str, Any], data: dict[str, Any], clock: SimClock, now: float) -> bool:
    """NodeODM's cancel: any state but CANCELED becomes CANCELED, a finished zip stays.

    True when a processing run was interrupted (NodeODM then calls the webhook).
    """
    if task["phase"] == "canceled":
        return False
    was_running = task["phase"] == "running"
    if was_running:
        _, progress, ptime, output = view(task, clock)
        task.update(progress=progress, processing_time=ptime, output=output)
        data["slot_freed"] = now
    elif task["phase"] in ("init", "queued"):
        task.update(progress=0.0, processing_time=-1)
    task["phase"] = "canceled"
    return was_running
