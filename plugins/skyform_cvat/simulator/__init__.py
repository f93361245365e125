"""A simulator of CVAT's REST API that cvat-sdk works against unchanged (see ``server``)."""

from .server import SANDBOX_TOKEN, CvatSimulator

__all__ = ["SANDBOX_TOKEN", "CvatSimulator"]
