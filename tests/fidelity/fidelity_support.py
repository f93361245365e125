"""What the fidelity suites share: the server under test and how a real one is found."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest

# a JPEG's first bytes: NodeODM does not look inside, a few bytes keep uploads fast
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)


@dataclass
class Server:
    """One server under test: where it is, its token, and what it is."""

    kind: str  # "simulator" or "real"
    base_url: str
    token: str | None = field(repr=False)  # never in a test report
    # the argparse dump the node's /options is made from, when known
    odm_dump: dict[str, dict[str, str]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1].rstrip("/"))


def real_server(service: str) -> tuple[str, str | None]:
    """(url, token) of the real server named by the environment, or skip with the reason."""
    url = os.environ.get(f"SKYFORM_FIDELITY_{service}_URL")
    if not url:
        pytest.skip(
            f"no real {service.lower()} server: set SKYFORM_FIDELITY_{service}_URL "
            f"(and SKYFORM_FIDELITY_{service}_TOKEN if it needs one)"
        )
    return url.rstrip("/"), os.environ.get(f"SKYFORM_FIDELITY_{service}_TOKEN") or None
