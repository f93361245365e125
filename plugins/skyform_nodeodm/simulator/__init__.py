"""The sandbox simulator of a NodeODM node (see :mod:`.service`)."""

from __future__ import annotations

from .service import SANDBOX_TOKEN, NodeODMSimulator

__all__ = ["NodeODMSimulator", "SANDBOX_TOKEN"]
