"""A repository's approval policy for gitops: ``approvals/policy.yaml``, beside the approvals.

The same rules as a mission's ``policy:`` block, for every mission of the repository:

    policy: {max_total: 2000, currency: EUR, irreversible_approvals: 2}

``gitops plan|apply`` combine it with each mission's own policy, the stricter of each rule
(:meth:`MissionPolicy.stricter`). It lives in ``approvals/`` so that whoever owns the
approvals (a CODEOWNERS rule) owns the policy too. A broken file fails the whole run
(exit 3, file, line and field): a policy must fail closed, never be skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import Diagnostic, Location, SpecError, UsageError
from ..spec.policy import POLICY_SCHEMA, MissionPolicy
from ..spec.yamlsource import parse
from ..validate.checks import kind_validator, schema_diagnostics

POLICY_FILE = "approvals/policy.yaml"
FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["policy"],
    "properties": {"policy": POLICY_SCHEMA},
}


def load(root: Path) -> MissionPolicy | None:
    """The repository's policy at ``root`` (a checkout), None without the file; SpecError when invalid."""
    path = root / POLICY_FILE
    if not path.is_file():
        return None
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise SpecError(
            Diagnostic("", f"cannot read {POLICY_FILE}: {exc.strerror}", Location(POLICY_FILE, 1, 1))
        ) from None
    document = parse(text, POLICY_FILE)  # named as in the repository, not gitops' checkout
    found = schema_diagnostics(kind_validator(None, FILE_SCHEMA), document, document, (), "repository policy")
    if found:
        raise SpecError(found)
    return MissionPolicy.from_spec(document["policy"])


def refuse_elsewhere(policy: MissionPolicy | None) -> None:
    """UsageError when a repository policy would go unenforced: workers plan without it."""
    if policy is not None:
        raise UsageError(
            f"{POLICY_FILE} is enforced only where gitops plans; with --executor the workers would plan without it",
            hint="run this repository's missions without --executor",
        )
