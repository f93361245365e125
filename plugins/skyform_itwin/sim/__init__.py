"""The sandbox simulator of the iTwin ContextCapture v1 API (see :mod:`.simulator`)."""

from __future__ import annotations

from .simulator import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, ItwinSimulator

__all__ = ["ItwinSimulator", "SANDBOX_CLIENT_ID", "SANDBOX_CLIENT_SECRET"]
