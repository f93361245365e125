"""GitOps: plan and apply every mission of a git repository from a clean export of one commit.

:func:`run` does one pass (``skyform gitops plan|apply``); :mod:`.reconcile` repeats it
(``skyform reconcile``). State lives outside the repository (see :mod:`.workspace`).
"""

from __future__ import annotations

from .report import MissionReport, RunReport
from .runner import Request, run

__all__ = ["MissionReport", "Request", "RunReport", "run"]
