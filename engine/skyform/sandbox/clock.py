"""The simulators' accelerated clock: real seconds times a factor.

Simulators store real epoch timestamps (so their state survives restarts) and ask the clock
how much *simulated* time has passed since then; a job documented to take an hour finishes
in 3.6 s at factor 1000.
"""

from __future__ import annotations

import os
import time

# one hour of simulated service time per real second: a mission of hour-long jobs runs in seconds
DEFAULT_FACTOR = 3600.0


class SimClock:
    """Simulated time runs ``factor`` times faster than real time."""

    def __init__(self, factor: float | None = None) -> None:
        if factor is None:  # read at construction, so a run's environment applies
            factor = float(os.environ.get("SKYFORM_SANDBOX_CLOCK", DEFAULT_FACTOR))
        if factor <= 0:
            raise ValueError("clock factor must be positive")
        self.factor = factor

    @staticmethod
    def now() -> float:
        """Real epoch seconds (what simulators store)."""
        return time.time()

    def elapsed(self, since: float) -> float:
        """Simulated seconds since the real epoch timestamp ``since``."""
        return max(0.0, (time.time() - since) * self.factor)

    def real(self, simulated_seconds: float) -> float:
        """Real seconds that ``simulated_seconds`` take on this clock."""
        return simulated_seconds / self.factor
