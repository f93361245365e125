"""The sandbox simulator of the iTwin ContextCapture v1 API (see :mod:`.server`)."""

from __future__ import annotations

from .server import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, ItwinSimulator

__all__ = ["SANDBOX_CLIENT_ID", "SANDBOX_CLIENT_SECRET", "ItwinSimulator"]
