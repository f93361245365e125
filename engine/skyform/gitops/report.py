"""What a gitops run did, per mission: the JSON summary, the pull-request markdown, the exit code.

Statuses of a mission: ``in_sync`` (nothing to do), ``changes`` (plan: something to do),
``applied``, ``destroyed`` (pruned), ``needs_approval`` (apply: its plan needs an approval
the commit does not hold, so nothing was sent), ``failed``, ``not_run`` (``--fail-fast``
started it not: its warning says after which failure). The run's exit code: 1 when any
mission failed; else 7 when a mission was refused for want of an approval; else, for
``plan --detailed-exitcode``, 8 when a mission with changes is over a cost ceiling (its
budget or a resource's max_cost), 2 when any mission has changes, else 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..cli.output import change_text
from ..errors import ExitCode
from ..plan.model import ActionKind, symbol


@dataclass
class MissionReport:
    """One mission's outcome in a gitops run."""

    path: str
    commit: str
    operation: str = "apply"  # or "destroy" (pruned)
    name: str | None = None
    status: str = "in_sync"
    plan: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    approval_missing: str | None = None  # why the plan may not be applied (approvals/<mission>.json)

    @property
    def counts(self) -> dict[str, int]:
        return dict((self.plan or {}).get("counts", {}))

    @property
    def has_changes(self) -> bool:
        return bool((self.plan or {}).get("has_changes"))

    def costs(self) -> list[dict[str, Any]]:
        actions = (self.plan or {}).get("actions", [])
        return [
            dict(a["cost"], address=a["address"])
            for a in actions
            if a.get("cost") and a.get("action") in (ActionKind.CREATE, ActionKind.UPDATE, ActionKind.REPLACE)
        ]

    @property
    def cost(self) -> dict[str, Any]:
        """The plan's ``cost`` (total by currency, unknown, largest, the mission budget)."""
        return dict((self.plan or {}).get("cost") or {})

    @property
    def breaches(self) -> list[dict[str, Any]]:
        """The plan's estimates above a ceiling (``address`` None: the mission's budget)."""
        return list((self.plan or {}).get("budget") or [])

    def to_json(self) -> dict[str, Any]:
        changing = [a for a in (self.plan or {}).get("actions", []) if a.get("action") != ActionKind.NOOP]
        return {
            "path": self.path,
            "mission": self.name,
            "commit": self.commit,
            "operation": self.operation,
            "result": self.status,
            "counts": self.counts,
            "changes": self.has_changes,
            "actions": [{k: a[k] for k in ("address", "type", "action", "reason") if k in a} for a in changing],
            "costs": self.costs(),
            "cost": self.cost,
            "over_budget": self.breaches,
            "irreversible": list((self.plan or {}).get("irreversible") or []),
            "approval": {**((self.plan or {}).get("approval") or {}), "missing": self.approval_missing},
            "errors": list(self.errors),
            "warnings": list(self.warnings),
        }


@dataclass
class RunReport:
    """Every mission of one run, in the missions' (path) order, whatever order they finished in."""

    repository: str
    ref: str
    commit: str
    mode: str  # "plan" or "apply"
    missions: list[MissionReport] = field(default_factory=list)
    since: str | None = None

    @property
    def failed(self) -> list[MissionReport]:
        return [m for m in self.missions if m.status == "failed"]

    @property
    def not_run(self) -> list[MissionReport]:
        """Missions ``--fail-fast`` did not start."""
        return [m for m in self.missions if m.status == "not_run"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def exit_code(self, detailed: bool = False) -> int:
        if self.failed:
            return ExitCode.ERROR
        if any(m.status == "needs_approval" for m in self.missions):
            return ExitCode.REFUSED
        if detailed and any(m.has_changes and m.breaches for m in self.missions):
            return ExitCode.OVER_BUDGET
        if detailed and any(m.has_changes for m in self.missions):
            return ExitCode.CHANGES
        return ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "ref": self.ref,
            "commit": self.commit,
            "mode": self.mode,
            "since": self.since,
            "ok": self.ok,
            "summary": {
                status: sum(1 for m in self.missions if m.status == status)
                for status in sorted({m.status for m in self.missions})
            },
            "missions": [m.to_json() for m in self.missions],
        }

    def to_markdown(self) -> str:
        """A summary for a pull-request comment: one section per mission with its plan."""
        verb = "Plan" if self.mode == "plan" else "Apply"
        lines = [f"### skyform gitops {verb.lower()}: `{self.commit[:12]}` ({self.ref})", ""]
        if self.since:
            lines += [f"Missions changed since `{self.since}`.", ""]
        if not self.missions:
            lines += ["No missions selected.", ""]
        lines += ["| mission | path | result | changes |", "|---|---|---|---|"]
        for m in self.missions:
            counts = ", ".join(f"{n} {k}" for k, n in sorted(m.counts.items()) if k != ActionKind.NOOP) or "none"
            lines.append(f"| {_cell(m.name or '?')} | `{m.path}` | {_badge(m.status)} | {counts} |")
        for m in self.missions:
            lines += ["", f"<details><summary><b>{_cell(m.name or m.path)}</b> - {m.status}</summary>", ""]
            for error in m.errors:
                lines.append(f"> **error:** {_cell(error)}")
            if m.status == "not_run":
                lines += [f"> {_cell(w)}" for w in m.warnings]
            actions = [a for a in (m.plan or {}).get("actions", []) if a.get("action") != ActionKind.NOOP]
            if actions:
                lines += ["", "```diff"]
                for a in actions:
                    sym = symbol(a["action"])
                    lines.append(f"{sym} {a['address']} ({a['type']}): {a['action']} - {a.get('reason', '')}")
                    for change in a.get("changes", []):
                        lines.append(
                            f"    {_dotted(change['path'])}: "
                            f"{change_text(change.get('before'), change.get('after'), '->')}"
                        )
                lines.append("```")
            elif not m.errors and m.status != "not_run":
                lines.append("No changes.")
            costs = m.costs()
            if costs:
                lines += ["", "| resource | estimated cost |", "|---|---|"]
                lines += [f"| {c['address']} | {c['amount']:.2f} {c.get('currency', 'USD')} |" for c in costs]
            lines += _cost_lines(m)
            lines += _approval_lines(m)
            lines += ["", "</details>"]
        return "\n".join(lines) + "\n"


def _cost_lines(m: MissionReport) -> list[str]:
    """The mission's total, unknowns and budget, and every breach, for the reviewer."""
    cost, lines = m.cost, []
    totals = cost.get("total") or {}
    if totals or cost.get("budget"):
        total = ", ".join(f"{v:,.2f} {k}" for k, v in totals.items()) or "none known"
        line = f"**Estimated total:** {total}"
        if cost.get("unknown"):
            line += f"; cost unknown (not counted): {_cell(', '.join(cost['unknown']))}"
        budget = cost.get("budget")
        if budget:
            line += f"; budget {budget['max']:,.2f} {_cell(budget['currency'])}"
        lines += ["", line]
    spent = (cost.get("spent") or {}).get("total") or {}
    if spent:
        line = "**Spent so far:** " + ", ".join(f"{v:,.2f} {_cell(k)}" for k, v in spent.items())
        estimated = (cost.get("spent") or {}).get("estimated") or []
        if estimated:
            line += f" (skyform's estimate for {_cell(', '.join(estimated))}, not the service's figure)"
        lines += ["", line] if not lines else [line]
    for b in m.breaches:
        what = b.get("address") or "the mission"
        lines.append(
            f"> **over budget:** {_cell(what)}: estimate {b['estimate']:,.2f} {_cell(b['currency'])} "
            f"is above {b['ceiling']} {b['limit']:,.2f}"
        )
    return lines


def _approval_lines(m: MissionReport) -> list[str]:
    """What cannot be undone, and the approval the mission still needs (for the reviewer)."""
    lines = []
    for mark in (m.plan or {}).get("irreversible") or []:
        until = f" until {mark['until']}" if mark.get("until") else ""
        lines.append(
            f"> **{_cell(mark['class'])}{_cell(until)}:** {_cell(mark['address'])} ({mark['action']}): "
            f"{_cell(mark.get('reason', ''))}"
        )
    if m.approval_missing:
        lines.append(f"> **approval missing:** {_cell(m.approval_missing)}")
    return [""] + lines if lines else []


def _badge(status: str) -> str:
    return {
        "failed": "**failed**",
        "changes": "changes",
        "in_sync": "in sync",
        "not_run": "not run",
        "needs_approval": "**needs approval**",
    }.get(status, status)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _dotted(path: Any) -> str:
    """A plan change's path (a list of keys and indexes) as people write it: ``labels.0.color``."""
    return ".".join(map(str, path)) if isinstance(path, list) else str(path)
