"""Switchable faults for simulators, per simulator and per request pattern.

A fault rule (YAML or JSON; ``--faults FILE``, ``SKYFORM_SANDBOX_FAULTS`` or
``POST /__sandbox__/faults``)::

    - provider: nodeodm          # optional: which simulator (default: every one)
      match: "POST /task/new/.*" # regex on "METHOD /path" (job faults: on "Kind name")
      fault: status              # status | latency | drop | job_fail | job_stuck
      status: 429                # for fault: status (429, 500, 503 ...)
      retry_after: 1             # seconds, sent as Retry-After (omit: no header)
      delay: 0.5                 # for fault: latency, seconds added before answering
      rate: 0.3                  # probability per matching request (default 1)
      times: 5                   # at most this many times (default: unlimited)

``job_fail`` and ``job_stuck`` are consulted by simulators when a job is created: the job
fails partway, or never finishes. Random draws use a seeded generator (``seed``), so a
campaign is repeatable.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

FaultKind = Literal["status", "latency", "drop", "job_fail", "job_stuck"]
KINDS = ("status", "latency", "drop", "job_fail", "job_stuck")


@dataclass
class FaultRule:
    """One fault: what it matches, what it does, how often."""

    fault: FaultKind
    match: str = ".*"
    provider: str | None = None
    status: int = 503
    retry_after: float | None = None
    delay: float = 0.0
    rate: float = 1.0
    times: int | None = None
    fired: int = 0
    _regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.fault not in KINDS:
            raise ValueError(f"unknown fault {self.fault!r}; expected one of {', '.join(KINDS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        self._regex = re.compile(self.match)

    @classmethod
    def from_dict(cls, data: Any) -> FaultRule:
        if not isinstance(data, dict):
            raise ValueError(f"a fault rule must be a mapping, not {type(data).__name__}")
        allowed = {"fault", "match", "provider", "status", "retry_after", "delay", "rate", "times"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(map(str, unknown)))}")
        types: dict[str, type | tuple[type, ...]] = {
            "fault": str,
            "match": str,
            "provider": (str, type(None)),
            "status": int,
            "retry_after": (int, float, type(None)),
            "delay": (int, float),
            "rate": (int, float),
            "times": (int, type(None)),
        }
        for key, value in data.items():
            if not isinstance(value, types[key]) or isinstance(value, bool):
                raise ValueError(f"fault setting {key!r} has the wrong type: {value!r}")
        try:
            return cls(**data)
        except re.error as exc:
            raise ValueError(f"fault match {data.get('match')!r} is not a valid regular expression: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}


class Faults:
    """The fault rules of one process; thread-safe, seeded."""

    def __init__(self, rules: Iterable[FaultRule] = (), seed: int = 0) -> None:
        self.rules = list(rules)
        self.random = random.Random(seed)
        self.lock = threading.Lock()

    @classmethod
    def load(cls, source: str | Path | list[dict[str, Any]] | None, seed: int = 0) -> Faults:
        """Rules from a list, a JSON/YAML file path, or inline JSON text."""
        if source is None:
            return cls(seed=seed)
        data: Any = source
        if isinstance(source, (str, Path)):
            text = str(source)
            if text.lstrip().startswith(("[", "{")):
                try:
                    data = json.loads(text)
                except ValueError as exc:
                    raise ValueError(f"fault rules are not valid JSON: {exc}") from None
            else:
                from ruamel.yaml import YAML
                from ruamel.yaml.error import YAMLError

                try:
                    data = YAML(typ="safe").load(Path(text).read_text())
                except YAMLError as exc:
                    raise ValueError(f"fault rules in {text} are not valid YAML: {exc}") from None
        if not isinstance(data, list):
            raise ValueError("faults must be a list of rules")
        rules = []
        for index, rule in enumerate(data, 1):
            try:
                rules.append(FaultRule.from_dict(rule))
            except ValueError as exc:
                raise ValueError(f"fault rule {index}: {exc}") from None
        return cls(rules, seed=seed)

    @classmethod
    def from_environment(cls) -> Faults:
        return cls.load(
            os.environ.get("SKYFORM_SANDBOX_FAULTS") or None, seed=int(os.environ.get("SKYFORM_SANDBOX_SEED", "0"))
        )

    def replace(self, rules: Iterable[FaultRule]) -> None:
        with self.lock:
            self.rules = list(rules)

    def _draw(self, rule: FaultRule) -> bool:
        if rule.times is not None and rule.fired >= rule.times:
            return False
        if rule.rate < 1.0 and self.random.random() >= rule.rate:
            return False
        rule.fired += 1
        return True

    def for_request(self, provider: str, method: str, path: str) -> list[FaultRule]:
        """The request faults that fire for this request (latency first, then one answer)."""
        subject = f"{method} {path}"
        fired: list[FaultRule] = []
        with self.lock:
            for rule in self.rules:
                if rule.fault in ("job_fail", "job_stuck"):
                    continue
                if rule.provider not in (None, provider) or not rule._regex.search(subject):
                    continue
                if self._draw(rule):
                    fired.append(rule)
        fired.sort(key=lambda r: r.fault != "latency")
        return fired

    def job_fate(self, provider: str, subject: str) -> Literal["ok", "fail", "stuck"]:
        """Decide, once at job creation, whether a simulated job fails or hangs."""
        with self.lock:
            for rule in self.rules:
                if rule.fault not in ("job_fail", "job_stuck"):
                    continue
                if rule.provider not in (None, provider) or not rule._regex.search(subject):
                    continue
                if self._draw(rule):
                    return "fail" if rule.fault == "job_fail" else "stuck"
        return "ok"

    def counts(self) -> dict[str, int]:
        with self.lock:
            out: dict[str, int] = {}
            for rule in self.rules:
                out[rule.fault] = out.get(rule.fault, 0) + rule.fired
            return out
