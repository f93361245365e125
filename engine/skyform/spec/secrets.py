"""Where ``${{ secrets.NAME }}`` comes from: the environment, or a secrets file.

``secrets.NAME`` reads the environment variable ``SKYFORM_SECRET_NAME``; a secrets file
(``--secrets-file FILE``, a YAML mapping NAME: value, never committed) is consulted first.
Values are registered for redaction the moment they are read and handed on as
:class:`~skyform.spec.values.Secret`, which the engine stores only as a digest.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .. import redact
from .values import Secret

ENV_PREFIX = "SKYFORM_SECRET_"


class Secrets:
    """Looks secrets up; ``get`` returns None when a secret is not set."""

    def __init__(self, values: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None) -> None:
        self.values = dict(values or {})
        self.environ = os.environ if environ is None else environ
        #: name -> value of every secret served so far: a value sent to a worker travels as
        #: its name (skyform.distributed.wire), which this lets the sender find
        self.served: dict[str, str] = {}

    @classmethod
    def from_file(cls, path: Path | None) -> Secrets:
        if path is None:
            return cls()
        from ..errors import UsageError
        from .yamlsource import parse

        try:
            data = parse(path.read_bytes(), str(path))
        except OSError as exc:
            raise UsageError(f"cannot read secrets file {path}: {exc.strerror}") from None
        if not isinstance(data, dict) or not all(isinstance(v, (str, int, float)) for v in data.values()):
            raise UsageError(f"secrets file {path} must be a mapping of NAME: value")
        return cls({str(k): str(v) for k, v in data.items()})

    def get(self, name: str) -> Secret | None:
        value = self.values.get(name)
        if value is None:
            value = self.environ.get(ENV_PREFIX + name)
        if value is None:
            return None
        redact.register(value)
        self.served[name] = value
        return Secret(value)

    @staticmethod
    def variable(name: str) -> str:
        return ENV_PREFIX + name
