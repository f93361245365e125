"""What a plan needs approved before apply, and the digest an approval of its changes names.

A plan needs an approval (or, outside gitops, ``--ack-irreversible``) when it has an
irreversible action; the mission's policy may ask for more (see :mod:`.policy` when
present). :func:`change_digest` is a sha256 of what the plan would do - the mission, the
state serial it was made against, the spec digest, the actions - without the moment it was
made, so the plan gitops makes in CI matches the one a reviewer approved in the pull
request as long as nothing changed; a saved plan's own approval (``skyform approve``)
binds to the whole file instead (:func:`skyform.approvals.binding.plan_digest`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

#: the parts of a plan's JSON an approval of its changes covers
COVERED = ("mission", "spec_digest", "lineage", "serial", "mode", "targets", "excludes", "actions")


def change_digest(plan_json: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of what the plan does, from its JSON (without when it was made)."""
    covered = {k: plan_json.get(k) for k in COVERED}
    text = json.dumps(covered, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def requirement(plan_json: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's ``approval`` field: whether apply needs one, why, and the digest to approve."""
    why = [
        f"irreversible: {m['address']} ({m['action']})"
        for m in plan_json.get("irreversible", [])
        if m.get("class") == "irreversible"
    ]
    return {"needed": bool(why), "why": why, "approvers": 1 if why else 0, "digest": change_digest(plan_json)}
