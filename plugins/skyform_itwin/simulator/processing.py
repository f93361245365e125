"""How a simulated ContextCapture job advances: queue, steps, percentage, fate, outputs.

Nothing runs in the background: a job stores the real time it was submitted (and
cancelled), and its state is derived from the simulated time elapsed since then
(``clock.elapsed``). Durations are plausible cloud processing times: a few minutes in the
queue, then roughly an hour per gigapixel for a Medium Full job (Draft half, Extra double),
so a typical job takes simulated hours and seconds of real time at the sandbox clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from skyform.sandbox.clock import SimClock

from ..pricing import pre_estimate

QUEUE_SECONDS = 180.0
ENGINE_LIMIT = 20
QUALITY_FACTOR = {"Draft": 0.5, "Medium": 1.0, "Extra": 2.0}
#: steps per job type: (name, share of the processing time)
STEPS = {
    "Full": (("Preparation", 0.05), ("Aerotriangulation", 0.35), ("Reconstruction", 0.15), ("Production", 0.45)),
    "Calibration": (("Preparation", 0.1), ("Aerotriangulation", 0.9)),
    "Reconstruction": (("Preparation", 0.1), ("Reconstruction", 0.3), ("Production", 0.6)),
}
FAIL_AT = 0.30  # fraction of processing at which a "fail" fate strikes
STUCK_AT = 0.37
FAILURES = {
    "Aerotriangulation": {
        "code": "AerotriangulationFailed",
        "title": "Aerotriangulation failed",
        "message": "Aerotriangulation failed: too few tie points between photos of the input.",
        "params": [],
    },
    "Production": {
        "code": "ProductionFailed",
        "title": "Production failed",
        "message": "Production failed: the reconstruction produced no tiles.",
        "params": [],
    },
    "Reconstruction": {
        "code": "ReconstructionFailed",
        "title": "Reconstruction failed",
        "message": "Reconstruction failed: not enough calibrated photos.",
        "params": [],
    },
    "Preparation": {
        "code": "InputError",
        "title": "Input error",
        "message": "Input reality data could not be read.",
        "params": [],
    },
}


def iso(epoch: float) -> str:
    """ISO 8601 UTC as the service writes it (``2020-09-14T14:29:55.123Z``; milliseconds kept
    so that "created after" comparisons are exact)."""
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def gigapixels(job: dict[str, Any]) -> float:
    """The job's volume: its costEstimationParameters, else 0.5 gigapixel per input."""
    params = job.get("costEstimationParameters") or {}
    return float(params.get("gigaPixels") or 0.5 * max(1, len(job.get("inputs", []))))


def estimated_units(job: dict[str, Any]) -> float:
    """``executionInformation.estimatedUnits`` of a submitted job: always a number.

    The documented response gives a number, and Bentley's SDK parses it with ``float()``
    (a null crashes ``get_job_properties``). It is the job's ``estimatedCost`` when it has
    one, else the same table applied to the volume the simulator processes.
    """
    cost = job.get("estimatedCost")
    if isinstance(cost, (int, float)):
        return float(cost)
    quality = job["jobSettings"].get("quality", "Medium")
    return pre_estimate({"gigaPixels": gigapixels(job), "meshQuality": quality}) or 0.0


def processing_seconds(job: dict[str, Any]) -> float:
    """Simulated processing time of a job, from its volume, type and quality."""
    giga = gigapixels(job)
    quality = QUALITY_FACTOR.get(job["jobSettings"].get("quality", "Medium"), 1.0)
    per_type = {"Calibration": 0.4, "Reconstruction": 0.7, "Full": 1.0}[job["type"]]
    return 1200.0 + 3600.0 * giga * quality * per_type


@dataclass
class Snapshot:
    """A job's observable state at one instant."""

    state: str
    percentage: int = 0
    step: str = ""
    started_at: float | None = None
    ended_at: float | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)


def _step_at(job_type: str, fraction: float) -> str:
    done = 0.0
    for name, share in STEPS[job_type]:
        done += share
        if fraction < done:
            return name
    return STEPS[job_type][-1][0]


def snapshot(job: dict[str, Any], clock: SimClock) -> Snapshot:
    """Where the job stands now (``job`` is the stored record, with private fields)."""
    if "_submittedAt" not in job:  # never submitted: unsubmitted, or cancelled before submission
        return Snapshot(job["state"])
    submitted = job["_submittedAt"]
    total = processing_seconds(job)
    started_at = submitted + clock.real(QUEUE_SECONDS)
    fate = job.get("_fate", "ok")
    limit = {"fail": FAIL_AT, "stuck": STUCK_AT}.get(fate, 1.0)
    ends_at = started_at + clock.real(total * limit)
    cancelled_at = job.get("_cancelledAt")
    now = clock.now() if cancelled_at is None else min(clock.now(), cancelled_at)
    if now < started_at:
        snap = Snapshot("active", 0, "Queued")
    else:
        fraction = min(
            limit,
            clock.elapsed(started_at) / total if cancelled_at is None else (now - started_at) * clock.factor / total,
        )
        snap = Snapshot("active", int(fraction * 100), _step_at(job["type"], fraction), started_at)
        if fate == "ok" and fraction >= 1.0:
            snap = Snapshot("success", 100, "Done", started_at, ends_at)
        elif fate == "fail" and fraction >= FAIL_AT:
            step = _step_at(job["type"], FAIL_AT)
            snap = Snapshot("failed", int(FAIL_AT * 100), step, started_at, ends_at, [FAILURES[step]])
    if cancelled_at is not None and snap.state == "active":
        snap.state, snap.ended_at = "cancelled", cancelled_at
    return snap


def warnings_for(job: dict[str, Any]) -> list[dict[str, Any]]:
    """Warnings the service reports for a job (an engine request above the account limit)."""
    engines = job["jobSettings"].get("processingEngines")
    if isinstance(engines, int) and engines > ENGINE_LIMIT:
        return [
            {
                "code": "EngineLimit",
                "title": "Engine limit",
                "message": f"{engines} engines were requested; the job is limited to {ENGINE_LIMIT}.",
                "params": [str(engines), str(ENGINE_LIMIT)],
            }
        ]
    return []
