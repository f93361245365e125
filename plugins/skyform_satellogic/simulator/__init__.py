"""The sandbox simulator of the Satellogic Tasking API (see :mod:`.server`)."""

from __future__ import annotations

from .server import CLIENT_ID, CLIENT_SECRET, STATIC_TOKEN, SatellogicSimulator

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "STATIC_TOKEN", "SatellogicSimulator"]
