"""A gitops mission's failures as its report: whatever one mission raises, the others run.

:class:`reported` turns an exception into the mission's ``failed`` status and its error
lines (paths relative to the repository, never gitops' checkout); :func:`raise_for` turns
an apply's outcome into the error it stands for. The mission runner, its pruning
(:mod:`.prune`) and the workers' side (:mod:`.remote`) share them.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

from ..errors import Interrupted, SkyformError, SpecError
from .report import MissionReport

log = logging.getLogger("skyform.gitops.runner")


class reported:
    """Turn whatever a mission raises into its report, so the next mission still runs."""

    def __init__(
        self, result: MissionReport, checkout: Path | None = None, directory: Path | None = None, path: str = "."
    ) -> None:
        self.result = result
        # Errors point into gitops' checkout (or a worker's copy of the mission's directory);
        # shown relative to the repository root instead.
        self.prefix = f"{checkout}/" if checkout is not None else None
        self.moved = (f"{directory}/", "" if path == "." else f"{path}/") if directory is not None else None

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None:
            return False
        if isinstance(exc, Interrupted) or not isinstance(exc, Exception):
            return False  # Ctrl-C stops the whole run, not just this mission
        self.result.status = "failed"
        if isinstance(exc, SpecError):
            errors = [str(d) for d in exc.diagnostics] or [exc.message]
        elif isinstance(exc, SkyformError):
            errors = [exc.message + (f" ({exc.hint})" if exc.hint else "")]
        else:  # a bug in skyform or a plugin: keep the traceback in the log, go on with the others
            log.error(
                "mission %s failed with an internal error:\n%s",
                self.result.path,
                "".join(traceback.format_exception(exc)),
            )
            errors = [f"internal error: {type(exc).__name__}: {exc}"]
        if self.moved:
            errors = [e.replace(*self.moved) for e in errors]
        if self.prefix:
            errors = [e.replace(self.prefix, "") for e in errors]
        self.result.errors += errors
        return True


def raise_for(outcome: Any) -> None:
    from ..api import outcome_error

    error = outcome_error(outcome)
    if error is not None:
        raise error
    if outcome.interrupted:
        raise Interrupted("the apply was interrupted; the next run resumes it")
