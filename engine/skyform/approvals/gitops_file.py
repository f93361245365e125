"""GitOps approvals: ``approvals/<mission>.json``, committed with the change.

In GitOps the pull request is where a change is reviewed, so the approval is a file in
it: a reviewer runs ``skyform gitops approve REPO --path DIR`` in their clone (it plans the
mission exactly as ``gitops apply`` will, against the same state) and commits the file it
writes; merging the reviewed pull request is the approval. ``gitops apply`` reads the file
from the commit it applies and lets a mission whose plan needs an approval through only
when the file names that plan's change digest (:func:`skyform.plan.approval.change_digest`:
mission, state serial, spec digest, actions), is not expired and has enough approvers.
It cannot be reused: the state serial it names moves with the apply it lets through.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT = "skyform-approval"
FORMAT_VERSION = 1
DIRECTORY = "approvals"


def path_for(root: Path, mission: str) -> Path:
    """Where a mission's approval lives in the repository."""
    return root / DIRECTORY / f"{mission}.json"


def relative(mission: str) -> str:
    return f"{DIRECTORY}/{mission}.json"


def _instant(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(text: Any) -> float:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True)
class Approver:
    name: str
    at: float
    expires_at: float


def read(path: Path) -> dict[str, Any]:
    """The file's content; ValueError naming what is wrong with it."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"cannot be read as JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f'is not a skyform approval (it must open with "format": "{FORMAT}")')
    if data.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"is of format version {data.get('format_version')}; this skyform reads {FORMAT_VERSION}")
    for key in ("mission", "digest", "serial", "approvers"):
        if key not in data:
            raise ValueError(f"lacks {key!r}")
    return data


def approvers(data: Mapping[str, Any]) -> list[Approver]:
    out = []
    for entry in data.get("approvers") or []:
        try:
            out.append(Approver(str(entry["name"]), _epoch(entry["at"]), _epoch(entry["expires_at"])))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"has an approver entry that is not {{name, at, expires_at}}: {entry!r}") from None
    return out


def write(
    root: Path, plan_json: Mapping[str, Any], *, approver: str, expires_in: float, max_cost: float | None
) -> Path:
    """Write (or add ``approver`` to) the approval of this plan; another plan's file is replaced."""
    mission = str(plan_json["mission"])
    need = plan_json.get("approval") or {}
    path = path_for(root, mission)
    now = time.time()
    entry = {"name": approver, "at": _instant(now), "expires_at": _instant(now + expires_in)}
    kept: list[dict[str, Any]] = []
    if path.exists():
        try:
            old = read(path)
        except ValueError:
            old = {}
        if old.get("digest") == need.get("digest"):
            kept = [a for a in old.get("approvers", []) if isinstance(a, dict) and a.get("name") != approver]
    data = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "mission": mission,
        "digest": need.get("digest"),
        "serial": plan_json.get("serial"),
        "cost": (plan_json.get("cost") or {}).get("total", {}),
        "max_cost": max_cost,
        "irreversible": [m["address"] for m in plan_json.get("irreversible", []) if m.get("class") == "irreversible"],
        "why": list(need.get("why", [])),
        "approvers": [*kept, entry],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def missing(root: Path | None, plan_json: Mapping[str, Any], *, now: float | None = None) -> str | None:
    """Why the plan may not be applied for want of an approval; None when it may.

    ``root`` is the checkout of the whole commit; None on a worker (``--executor``), which
    has only the mission's directory: a plan that needs an approval fails closed there.
    """
    need = plan_json.get("approval") or {}
    if not need.get("needed"):
        return None
    if root is None:
        return (
            "the plan needs an approval, and approvals/ is read only where gitops runs (not on a worker): "
            "run this mission without --executor"
        )
    now = time.time() if now is None else now
    mission = str(plan_json["mission"])
    name, path = relative(mission), path_for(root, mission)
    why = "; ".join(need.get("why", []))
    command = f"skyform gitops approve REPO --path <this mission's directory> (writes {name})"
    if not path.is_file():
        return f"the plan needs an approval ({why}) and {name} is not in the commit; commit one: {command}"
    try:
        data = read(path)
        people = approvers(data)
    except ValueError as exc:
        return f"{name} {exc}"
    if data["mission"] != mission:
        return f"{name} approves mission {data['mission']!r}, not {mission!r}"
    if data["digest"] != need.get("digest"):
        if data["serial"] != plan_json.get("serial"):
            return (
                f"{name} was made against state serial {data['serial']}, the state is now at serial "
                f"{plan_json.get('serial')}: approve the plan again"
            )
        return f"the plan changed since {name} approved it (another change digest): approve the plan again"
    cap = data.get("max_cost")
    if cap is not None:
        over = {c: t for c, t in ((plan_json.get("cost") or {}).get("total") or {}).items() if t > float(cap)}
        if over:
            listed = ", ".join(f"{t:,.2f} {c}" for c, t in over.items())
            return f"the plan's estimated total {listed} is above the cap {float(cap):,.2f} of {name}"
    usable = sorted({p.name for p in people if p.expires_at > now})
    expired = [f"{p.name}'s expired at {_instant(p.expires_at)}" for p in people if p.expires_at <= now]
    wanted = int(need.get("approvers", 1) or 1)
    if len(usable) < wanted:
        have = f"{len(usable)} usable ({', '.join(usable)})" if usable else "none usable"
        return f"the plan needs {wanted} approval(s) and {name} has {have}" + (
            f"; {', '.join(expired)}" if expired else ""
        )
    return None
