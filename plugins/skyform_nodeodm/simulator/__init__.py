"""The sandbox simulator of a NodeODM node (see :mod:`.server`)."""

from __future__ import annotations

from .server import SANDBOX_TOKEN, NodeODMSimulator

__all__ = ["SANDBOX_TOKEN", "NodeODMSimulator"]
