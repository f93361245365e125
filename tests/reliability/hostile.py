"""Hostile mission documents and the one rule they are held to.

The rule: loading and validating any byte string ends, within a time bound, either in a
mission or in a :class:`~skyform.errors.SpecError` - never another exception (a traceback
for the user), never a hang. :func:`verdict` applies it in-process; the tests run the same
documents through the CLI. The big documents are generated here rather than committed.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent / "corpus"
HEAD = "apiVersion: skyform/v1\nkind: Mission\nmetadata: {name: hostile}\n"
TIME_BOUND = 20.0  # seconds any single document may take (the 100k-key one is the slowest)


def corpus_files() -> list[tuple[str, bytes]]:
    """The committed hostile documents."""
    return [(p.name, p.read_bytes()) for p in sorted(CORPUS.glob("*.yaml"))]


def generated() -> Iterator[tuple[str, bytes]]:
    """Big hostile documents, built on the fly."""
    yield "deep_flow_seq", (HEAD + "resources: {}\nvariables: {x: " + "[" * 5000 + "]" * 5000 + "}\n").encode()
    yield "deep_flow_map", (HEAD + "resources: {}\nvariables: {x: " + "{a: " * 3000 + "1" + "}" * 3000 + "}\n").encode()
    yield (
        "deep_block",
        (
            HEAD
            + "resources: {}\nvariables:\n"
            + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(400))
            + "  " * 401
            + "v\n"
        ).encode(),
    )
    yield "huge_string", (HEAD + "resources: {}\nvariables: {x: '" + "x" * 20_000_000 + "'}\n").encode()
    yield "long_line_flow", (HEAD + "resources: {}\nvariables: {x: [" + ",".join(["1"] * 500_000) + "]}\n").encode()
    yield (
        "keys_100k",
        (HEAD + "resources: {}\nvariables:\n" + "".join(f"  k{i}: {i}\n" for i in range(100_000))).encode(),
    )

    def chained(i: int) -> str:
        """Resource r{i}, depending on the one before it (r0 on r4999: a cycle through all)."""
        before = f"r{i - 1}" if i else "r4999"
        return f"  r{i}: {{type: local.Files, spec: {{glob: 'x{i}*'}}, depends_on: [{before}]}}\n"

    yield "resources_5k", (HEAD + "resources:\n" + "".join(chained(i) for i in range(5000))).encode()
    yield "huge_number", (HEAD + "resources: {}\nvariables: {x: " + "9" * 200_000 + "}\n").encode()
    yield (
        "many_expressions",
        (
            HEAD
            + "variables: {v: 1}\nresources:\n  f: {type: local.Files, spec: {glob: '"
            + "${{ var.v }}" * 50_000
            + "'}}\n"
        ).encode(),
    )
    yield (
        "unclosed_expressions",
        (HEAD + "resources:\n  f: {type: local.Files, spec: {glob: '" + "${{ var." * 50_000 + "'}}\n").encode(),
    )
    yield (
        "anchors_10k",
        (
            HEAD
            + "resources: {}\nvariables:\n"
            + "".join(
                f"  a{i}: &a{i} [{'*a' + str(i - 1) if i else 1}, {'*a' + str(i - 1) if i else 1}]\n" for i in range(40)
            )
        ).encode(),
    )
    yield "over_64mib", b"# " + b"x" * (65 * 1024 * 1024) + b"\n"


@dataclass
class Verdict:
    """How one document ended: ``ok``, ``spec_error``, or ``crash`` (with the exception)."""

    name: str
    outcome: str
    seconds: float
    detail: str = ""


def checker(directory: Path) -> Callable[[str, bytes], Verdict]:
    """An in-process load+validate of one mission text, as `skyform validate` does it."""
    from datetime import date

    from skyform.errors import SpecError
    from skyform.providers.host import load_registry
    from skyform.spec.mission import build, content_digest, parse_document
    from skyform.validate.checks import validate_mission

    registry = load_registry()
    path = directory / "mission.yaml"

    def check(name: str, text: bytes) -> Verdict:
        started = time.perf_counter()
        try:
            document = parse_document([path], [text])
            mission = build(document, directory, [path], content_digest([path], [text]))
            problems = validate_mission(mission, registry, today=date(2027, 1, 15))
            outcome = "spec_error" if any(p.severity == "error" for p in problems) else "ok"
            detail = ""
        except SpecError as exc:
            outcome, detail = "spec_error", str(exc)[:200]
        except RecursionError as exc:
            outcome, detail = "crash", f"RecursionError: {exc}"
        except Exception as exc:  # the defect this campaign hunts
            outcome, detail = "crash", f"{type(exc).__name__}: {exc}"[:300]
        return Verdict(name, outcome, time.perf_counter() - started, detail)

    return check


def demo_document() -> dict[str, Any]:
    """The demo mission as plain data (the seed of the mutation fuzzers)."""
    from rkit import DEMO
    from ruamel.yaml import YAML

    return YAML(typ="safe").load((DEMO / "mission.yaml").read_text())


HOSTILE_SCALARS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    -(2**63) - 1,
    10**400,
    1.5,
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    " ",
    "\x00",
    "\u202e",
    "💥",
    "a" * 10_000,
    "${{",
    "}}",
    "${{ }}",
    "${{ var }}",
    "${{ secrets.X }}",
    "${{ resources.nope.outputs.x }}",
    "${{ resources.photos.outputs.paths[99] }}",
    "${{ var.site.lat.x }}",
    "${{ mission.name }}",
    "${{ mission.directory }}",
    "${{ resources.photos }}",
    "${{ __class__ }}",
    "${{ var.site[0] }}",
    "${{ var.site[99999999999999999999] }}",
    "2027-02-30",
    "9999-99-99T99:99:99Z",
    "../../etc/passwd",
    "/etc/shadow",
    "*",
    "**/*",
    "[",
    "~",
    "-1h",
    "1e9999d",
    "0s",
    [],
    {},
    [None],
    {"": None},
    {"${{ var.site }}": 1},
    [[[[]]]],
]


def mutate(doc: Any, rng: random.Random, rounds: int = 3) -> Any:
    """A copy of ``doc`` with ``rounds`` random structural mutations."""
    doc = json.loads(json.dumps(doc))
    for _ in range(rounds):
        containers = list(_containers(doc))
        container = rng.choice(containers)
        if isinstance(container, dict) and container:
            key = rng.choice(list(container))
            op = rng.random()
            if op < 0.25:
                del container[key]
            elif op < 0.75:
                container[key] = rng.choice(HOSTILE_SCALARS)
            elif op < 0.9:
                container[rng.choice(["type", "spec", "lifecycle", "depends_on", "zzz", "outputs", key + "_"])] = (
                    rng.choice(HOSTILE_SCALARS)
                )
            else:
                # a copy of another subtree (what an alias would expand to)
                container[key] = json.loads(json.dumps(rng.choice(containers), allow_nan=True))
        elif isinstance(container, list) and container:
            i = rng.randrange(len(container))
            if rng.random() < 0.5:
                container[i] = rng.choice(HOSTILE_SCALARS)
            else:
                container.insert(i, rng.choice(HOSTILE_SCALARS))
    return doc


def _containers(value: Any) -> Iterator[Any]:
    if isinstance(value, (dict, list)):
        yield value
        for child in value.values() if isinstance(value, dict) else value:
            yield from _containers(child)


def to_text(doc: Any) -> bytes:
    """YAML text of a document (JSON is YAML; NaN/Inf as YAML's .nan/.inf)."""
    text = json.dumps(doc, allow_nan=True, indent=1)
    return text.replace("-Infinity", "-.inf").replace("Infinity", ".inf").replace("NaN", ".nan").encode()


def mutate_text(text: bytes, rng: random.Random, edits: int = 4) -> bytes:
    """Byte-level edits of a YAML text: flips, insertions of YAML punctuation, cuts, duplications."""
    data = bytearray(text)
    tokens = [
        b":",
        b"-",
        b"{",
        b"}",
        b"[",
        b"]",
        b"&a",
        b"*a",
        b"!!",
        b"!!python/object:os.system",
        b"<<: ",
        b"\t",
        b"\n",
        b"\r",
        b"'",
        b'"',
        b"#",
        b"%",
        b"|",
        b">",
        b"? ",
        b"${{",
        b"}}",
        b"\xff",
        b"\xc3",
        b"\x00",
        b"---\n",
        b"...\n",
        b"  ",
        b"~",
        b".nan",
        b"1e999",
    ]
    for _ in range(edits):
        if not data:
            break
        i = rng.randrange(len(data))
        op = rng.random()
        if op < 0.3:
            data[i] = rng.randrange(256)
        elif op < 0.7:
            data[i:i] = rng.choice(tokens)
        elif op < 0.85:
            del data[i : i + rng.randrange(1, 40)]
        else:
            j = rng.randrange(len(data))
            data[i:i] = data[j : j + rng.randrange(1, 80)]
    return bytes(data)
