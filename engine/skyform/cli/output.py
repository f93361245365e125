"""Human-readable output: diagnostics with a caret, Terraform-like plans, apply progress.

Colour only on a terminal (and never with ``NO_COLOR``); every line passes through the
secret redactor. Machine output (``--json``) is one JSON object per line, written by
:class:`JsonLines`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from .. import redact
from ..errors import Diagnostic, SkyformError, SpecError
from ..events import EventKind
from ..spec.values import SECRET_MARK, UNKNOWN_MARK, Secret, Unknown

if TYPE_CHECKING:
    from ..plan.model import Action, Plan

# the symbols themselves are the plan's (ActionKind.symbol); only their colours live here,
# keyed by the kinds' values: `skyform validate` prints through this module and imports no
# plan model (start-up time, issue 16)
COLORS = {
    "create": "green",
    "update": "yellow",
    "replace": "red",
    "delete": "red",
    "forget": "magenta",
    "resume": "cyan",
    "read": "cyan",
}
VERBS = {
    "create": "will be created",
    "update": "will be updated in place",
    "replace": "must be replaced",
    "delete": "will be deleted",
    "forget": "will be removed from state (not deleted remotely)",
    "resume": "is still running: apply waits for it",
    "read": "will be read",
}


def use_color(stream: IO[str] | None = None) -> bool:
    stream = stream or sys.stdout
    return not os.environ.get("NO_COLOR") and hasattr(stream, "isatty") and stream.isatty()


class Printer:
    """Writes redacted text, coloured when the stream is a terminal."""

    def __init__(self, stream: IO[str] | None = None, color: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.color = use_color(self.stream) if color is None else color

    def style(self, text: str, fg: str | None = None, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold) if self.color and (fg or bold) else text

    def line(self, text: str = "") -> None:
        self.stream.write(redact.redact(text) + "\n")
        self.stream.flush()


SENSITIVE = "(sensitive)"
SENSITIVE_CHANGED = "(sensitive value changed)"
KNOWN_AFTER_APPLY = "(known after apply)"


def shown(value: Any) -> Any:
    """``value`` as people see it: every secret, at any depth, is ``(sensitive)`` and every
    unknown ``(known after apply)``. The one rule for plans, the apply summary, ``output``
    (text and ``--json``): a digest is never shown as if it were the value."""
    if isinstance(value, Unknown) or (isinstance(value, dict) and UNKNOWN_MARK in value):
        return KNOWN_AFTER_APPLY
    if isinstance(value, Secret) or (isinstance(value, dict) and SECRET_MARK in value):
        return SENSITIVE
    if isinstance(value, dict):
        return {k: shown(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [shown(v) for v in value]
    return value


def render_value(value: Any) -> str:
    value = shown(value)
    if value in (KNOWN_AFTER_APPLY, SENSITIVE):
        return str(value)
    text = json.dumps(value, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def change_text(before: Any, after: Any, arrow: str = "→") -> str:
    """One field's change as every printer shows it: ``"a" → "b"``, and for a secret that
    changed (a rotation) only ``(sensitive value changed)``, nothing of either value."""
    if shown(before) == SENSITIVE and shown(after) == SENSITIVE:
        return SENSITIVE_CHANGED
    return f"{render_value(before)} {arrow} {render_value(after)}"


def diagnostics_text(diagnostics: Iterable[Diagnostic], printer: Printer) -> list[str]:
    """Each diagnostic as ``file:line:col: path: message [type]``, its source line and a caret."""
    lines: list[str] = []
    cache: dict[str, list[str]] = {}
    for d in diagnostics:
        label = printer.style(
            "warning" if d.severity == "warning" else "error", "yellow" if d.severity == "warning" else "red", True
        )
        lines.append(f"{label}: {d}")
        loc = d.location
        if loc is not None:
            if loc.file not in cache:
                try:
                    cache[loc.file] = Path(loc.file).read_text(errors="replace").splitlines()
                except OSError:
                    cache[loc.file] = []
            src = cache[loc.file]
            if 0 < loc.line <= len(src) and len(src[loc.line - 1]) <= 300:
                lines.append(f"  {loc.line:>4} | {src[loc.line - 1]}")
                lines.append("       | " + " " * (loc.column - 1) + printer.style("^", "red"))
        if d.hint:
            lines.append(f"  hint: {d.hint}")
    return lines


def error_text(exc: SkyformError, printer: Printer) -> list[str]:
    if isinstance(exc, SpecError):
        lines = diagnostics_text(exc.diagnostics, printer)
        errors = len([d for d in exc.diagnostics if d.severity == "error"])
        lines.append(f"{errors} error{'s' if errors != 1 else ''} found.")
        return lines
    lines = [printer.style("Error: ", "red", True) + exc.message]
    if exc.hint:
        lines.append(f"  hint: {exc.hint}")
    return lines


def plan_text(plan: Plan, printer: Printer, *, show_noop: bool = False) -> list[str]:
    from ..plan.approval import lines as approval_lines
    from ..plan.irreversible import notice
    from ..plan.model import ActionKind

    lines: list[str] = []
    for a in plan.actions:
        if a.action == ActionKind.NOOP and not a.drift and not show_noop:
            continue
        lines += action_text(a, printer, plan.mode)
        lines += [
            printer.style(f"    ! over budget: {str(b).partition(': ')[2]}", "red", True)
            for b in plan.budget
            if b.address == a.address
        ]
    counts = plan.counts()
    if plan.excluded:
        lines.append(
            f"Excluded by --exclude {', '.join(plan.excludes)}: {', '.join(plan.excluded)} "
            "(not planned; left as they are)."
        )
    if plan.mode == "refresh-only":
        drifted = [a for a in plan.actions if a.drift]
        lines.append(
            f"Drift: {len(drifted)} resource(s) changed outside skyform." if drifted else "No changes outside skyform."
        )
        return lines
    if not plan.has_changes:
        lines.append(printer.style("No changes.", bold=True) + " The mission matches the recorded state.")
        return lines
    summary = (
        f"Plan: {counts.get('create', 0)} to create, {counts.get('update', 0)} to update, "
        f"{counts.get('replace', 0)} to replace, {counts.get('delete', 0)} to delete"
    )
    if counts.get("forget"):  # counted apart: nothing is deleted in the service
        summary += f", {counts['forget']} to remove from state"
    if counts.get("resume"):
        summary += f", {counts['resume']} to wait for"
    lines.append(printer.style(summary + ".", bold=True))
    lines += cost_text(plan)
    marks = notice(plan.actions, destroy=plan.mode == "destroy")
    marks += approval_lines(plan.approval(), plan.policy.to_json() if plan.policy else None, sandbox=plan.sandbox)
    lines += [printer.style(line, "yellow") for line in marks]
    if plan.budget:  # money first: the one thing a reviewer must not miss
        over = ", ".join(b.address or "the mission" for b in plan.budget)
        lines.append(
            printer.style(
                f"Over budget: {len(plan.budget)} estimate{'s' if len(plan.budget) != 1 else ''} "
                f"above {'their' if len(plan.budget) != 1 else 'its'} ceiling ({over}).",
                "red",
                True,
            )
        )
    blocked = [a for a in plan.actions if a.blocked]
    if blocked:  # the heading lists them: a reader should not have to hunt for the marked lines
        lines.append(
            printer.style(
                f"{len(blocked)} action(s) cannot proceed; apply will fail them: "
                + ", ".join(a.address for a in blocked)
                + ".",
                "red",
            )
        )
    return lines


def cost_text(plan: Plan) -> list[str]:
    """The plan's cost: total by currency, the dearest items, unknowns, what is spent, the budget.

    Said only when there is something to say (an estimate, a spend or a budget); resources
    of unknown cost are named and never counted as zero, so the total reads "at least".
    The budget counts what the state records as spent and what this plan adds.
    """
    cost, budget, spent = plan.cost(), plan.mission_budget, plan.spent
    if not cost.totals and budget is None and not spent.totals:
        return []
    total = ", ".join(f"{v:,.2f} {k}" for k, v in cost.totals.items()) or "none known"
    line = f"Estimated cost: {'at least ' if cost.unknown and cost.totals else ''}{total}"
    if cost.unknown:
        line += f"; cost unknown for {len(cost.unknown)} (not counted): {', '.join(cost.unknown)}"
    lines = [line + "."]
    if len(cost.items) > 1:
        lines.append("  largest: " + ", ".join(f"{a} {c.amount:,.2f} {c.currency}" for a, c in cost.largest))
    if spent.totals:
        estimated = f" (the applied estimate for {', '.join(spent.estimated)})" if spent.estimated else ""
        lines.append("  spent so far: " + ", ".join(f"{v:,.2f} {k}" for k, v in spent.totals.items()) + estimated)
    if budget is not None:
        cur = budget.currency
        adds, already = cost.totals.get(cur, 0.0), spent.totals.get(cur, 0.0)
        whole = adds + already
        state = f"over by {whole - budget.max:,.2f}" if whole > budget.max else f"{budget.max - whole:,.2f} left"
        figures = f"{adds:,.2f} of"
        if already:
            figures = f"spent {already:,.2f} {cur}; this plan adds {adds:,.2f} {cur}; total {whole:,.2f} of"
        lines.append(f"  budget: {figures} {budget.max:,.2f} {budget.currency} ({state})")
    return lines


def action_text(a: Action, printer: Printer, mode: str = "apply") -> list[str]:
    from ..plan.model import ActionKind, symbol

    mark, color = symbol(a.action), COLORS.get(a.action)
    verb = VERBS.get(a.action, a.action) if a.action != ActionKind.NOOP else "is up to date"
    head = f"{printer.style(mark, color, True)} {printer.style(a.address, bold=True)} ({a.type}) {verb}"
    lines = [head + (f"  # {a.reason}" if a.reason else "")]
    for c in a.changes:
        lines.append(f"    ~ {c.dotted}: {change_text(c.before, c.after)}")
    for c in a.drift:
        text = change_text(c.after, c.before)
        lines.append(
            f"    ! {c.dotted} changed outside skyform: "
            + (text if text == SENSITIVE_CHANGED else f"recorded {render_value(c.after)}, now {render_value(c.before)}")
        )
    for note in a.notes:
        lines.append(f"    note: {note}")
    if a.cost:
        lines.append(f"    cost estimate: {a.cost}")
    if a.irreversibility is not None:
        lines.append(printer.style(f"    ! {a.irreversibility}", "yellow", a.irreversibility.needs_ack))
    if a.blocked:
        lines.append(printer.style(f"    blocked: {a.blocked}", "red"))
    return lines


class ApplyView:
    """Prints apply events as lines; on a terminal, a live status line sits below them.

    The status line (resources done of total, and each running job with its progress) is
    redrawn in place after every event, so a long apply shows what it is waiting for
    without scrolling; without a terminal only the lines are written.
    """

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self.started: dict[str, float] = {}
        self.last_progress: dict[str, float] = {}
        self.live = printer.color and hasattr(printer.stream, "isatty") and printer.stream.isatty()
        self.total = 0
        self.finished: set[str] = set()
        self.running: dict[str, str] = {}

    def begin(self, total: int) -> None:
        """The number of resources the apply will act on (for the status line)."""
        self.total = total

    def end(self) -> None:
        if self.live:
            self.printer.stream.write("\r\033[K")
            self.printer.stream.flush()

    def __call__(self, event: dict[str, Any]) -> None:
        if self.live:
            self.printer.stream.write("\r\033[K")
        self._line(event)
        if self.live:
            self._track(event)
            import shutil  # here: it pulls in bz2 and lzma, which `skyform validate` never needs

            self.printer.stream.write(self._status()[: shutil.get_terminal_size((100, 20)).columns - 1])
            self.printer.stream.flush()

    def _track(self, event: dict[str, Any]) -> None:
        address = event.get("address", "")
        if event.get("event") == EventKind.TRANSITION:
            after = event.get("after")
            if after in ("ready", "deleted", "forgotten", "failed"):
                self.finished.add(address)
                self.running.pop(address, None)
            else:
                self.running[address] = str(after)
        elif event.get("event") == EventKind.PROGRESS:
            fraction = event.get("fraction")
            self.running[address] = f"{fraction * 100:.0f}%" if isinstance(fraction, (int, float)) else "running"
        elif event.get("event") == EventKind.SKIPPED:
            self.finished.add(address)

    def _status(self) -> str:
        jobs = ", ".join(f"{a} {state}" for a, state in list(self.running.items())[:6])
        more = f" +{len(self.running) - 6}" if len(self.running) > 6 else ""
        total = f"/{self.total}" if self.total else ""
        return self.printer.style(f"[{len(self.finished)}{total} done]", "cyan") + (f" {jobs}{more}" if jobs else "")

    def _line(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        address = event.get("address", "")
        p = self.printer
        now = time.monotonic()
        if kind == EventKind.TRANSITION:
            after = event.get("after")
            self.started.setdefault(address, now)
            elapsed = _elapsed(now - self.started[address])
            rid = f" [id={event['remote_id']}]" if event.get("remote_id") else ""
            texts = {
                "creating": f"{address}: Creating...",
                "updating": f"{address}: Modifying...",
                "deleting": f"{address}: Destroying...",
                "running": f"{address}: Submitted; waiting for the remote job{rid}",
                "ready": f"{address}: Ready after {elapsed}{rid}",
                "deleted": f"{address}: Destruction complete after {elapsed}",
                "forgotten": f"{address}: Removed from state",
                "failed": p.style(f"{address}: Failed after {elapsed}: {event.get('error', '')}", "red"),
            }
            text = texts.get(str(after), f"{address}: {event.get('before')} → {after}")
            if event.get("outcome") == "adopted":
                text += " (adopted the object an interrupted run created)"
            p.line(text)
        elif kind == EventKind.PROGRESS:
            if now - self.last_progress.get(address, 0.0) < 2.0:
                return
            self.last_progress[address] = now
            fraction = event.get("fraction")
            pct = f"{fraction * 100:.0f}%" if isinstance(fraction, (int, float)) else ""
            elapsed = _elapsed(now - self.started.get(address, now))
            facts = [x for x in (pct, event.get("message") or "", elapsed + " elapsed") if x]
            p.line(f"{address}: Still running... [{', '.join(facts)}]")
        elif kind == EventKind.RETRY:
            wait = (
                f", retrying after {event['retry_after']:.0f}s"
                if event.get("retry_after") is not None
                else ", retrying"
            )
            p.line(p.style(f"{address}: {event.get('message')}{wait} (attempt {event.get('attempt')})", "yellow"))
        elif kind == EventKind.WARNING:
            p.line(p.style(f"Warning: {address + ': ' if address else ''}{event.get('message')}", "yellow"))
        elif kind == EventKind.CATALOG:
            p.line(f"STAC catalog of {event.get('items')} item(s) written to {event.get('path')}")
        elif kind == EventKind.SKIPPED:
            p.line(p.style(f"{address}: Skipped ({event.get('reason')})", "yellow"))
        elif kind == "bug":
            p.line(p.style(f"{address}: internal error (a bug; please report it):\n{event.get('message')}", "red"))


def _elapsed(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s}s"


class JsonLines:
    """Writes events as JSON lines (redacted), adding a timestamp."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, event: dict[str, Any]) -> None:
        event = {"ts": round(time.time(), 3), **event}
        self.stream.write(redact.redact(json.dumps(redact.redact_data(event), default=str)) + "\n")
        self.stream.flush()
