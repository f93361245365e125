"""A mission: one YAML file, or every ``*.yaml`` file of a directory, merged and checked.

Loading answers only "is this a well-formed mission document": the envelope schema,
duplicate resource ids across files, unknown top-level keys. Provider schemas, expressions
and the graph are checked by :mod:`skyform.validate.checks`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Diagnostic, Location, SpecError
from .budget import MissionBudget
from .envelope import MISSION_SCHEMA, parse_duration
from .kindscan import MISSION_SUFFIXES, YAML_SUFFIXES, file_declares_mission
from .policy import MissionPolicy
from .yamlsource import MDict, locate

MERGED_SECTIONS = ("providers", "variables", "resources", "outputs", "settings")


@dataclass(frozen=True)
class Lifecycle:
    """A resource's lifecycle options with their defaults applied."""

    prevent_destroy: bool = False
    ignore_changes: tuple[str, ...] = ()
    timeout: float | None = None
    retries: int = 3
    on_failure: str = "stop"
    max_cost: float | None = None
    queue: str | None = None  # --executor celery: the worker queue of its operations

    @classmethod
    def from_spec(cls, data: dict[str, Any] | None) -> Lifecycle:
        data = data or {}
        timeout = data.get("timeout")
        return cls(
            prevent_destroy=bool(data.get("prevent_destroy", False)),
            ignore_changes=tuple(data.get("ignore_changes", ())),
            timeout=parse_duration(timeout) if timeout is not None else None,
            retries=int(data.get("retries", 3)),
            on_failure=str(data.get("on_failure", "stop")),
            max_cost=float(data["max_cost"]) if data.get("max_cost") is not None else None,
            queue=str(data["queue"]) if data.get("queue") is not None else None,
        )

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Resource:
    """A resource as declared: id, type, raw spec (with expressions), order in the spec."""

    id: str
    type: str
    spec: dict[str, Any]
    depends_on: tuple[str, ...]
    lifecycle: Lifecycle
    index: int
    declaration: dict[str, Any]

    @property
    def provider(self) -> str:
        return self.type.partition(".")[0]

    @property
    def kind(self) -> str:
        return self.type.partition(".")[2]


@dataclass
class Mission:
    """A loaded mission; ``document`` keeps every value's location for error messages."""

    name: str
    directory: Path
    files: list[Path]
    document: MDict
    resources: dict[str, Resource]
    providers: dict[str, Any]
    variables: dict[str, Any]
    outputs: dict[str, Any]
    digest: str
    metadata: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None  # what the user named: the directory, or one file of it
    settings: dict[str, Any] = field(default_factory=dict)  # mission-wide options (``catalog``)
    budget: MissionBudget | None = None  # the ceiling on the plan's total estimate
    policy: MissionPolicy | None = None  # when a plan needs approvals (``policy:``)

    def __post_init__(self) -> None:
        if self.source is None:
            self.source = self.directory

    def locate(self, *path: Any) -> Location | None:
        return locate(self.document, path)

    @property
    def state_dir(self) -> Path:
        return self.directory / ".skyform"


def mission_files(path: Path) -> list[Path]:
    """The files of the mission at ``path``: a file, or a directory's mission files.

    A directory's are its ``*.yaml``/``*.yml`` files and those of its ``*.json`` files that
    declare ``kind: Mission`` (a mission written as JSON, which is YAML); other JSON files
    are data (a GeoJSON area, a saved plan). A JSON file that mentions ``Mission`` but does
    not parse is kept, so loading reports where it breaks.
    """
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in MISSION_SUFFIXES and _mission_file(p))
        if not files:
            raise SpecError(
                Diagnostic("", f"no *.yaml files in directory {path} (nor a *.json file saying kind: Mission)", None),
                message=f"{path} holds no mission",
            )
        return files
    if not path.exists():
        raise SpecError(Diagnostic("", f"{path} does not exist", None), message=f"no mission at {path}")
    return [path]


def _mission_file(path: Path) -> bool:
    if path.name.startswith(".") or not path.is_file():
        return False
    if path.suffix in YAML_SUFFIXES:
        return True
    try:
        return file_declares_mission(path)
    except SpecError:
        return True
    except OSError:
        return False


def content_digest(files: list[Path], contents: list[bytes]) -> str:
    h = hashlib.sha256()
    for f, c in zip(files, contents, strict=True):
        h.update(f.name.encode() + b"\0" + hashlib.sha256(c).digest())
    return h.hexdigest()


def merge(documents: list[tuple[Path, Any]]) -> MDict:
    """Merge the files of one mission; a key defined in two files is an error naming both."""
    merged = MDict()
    merged.source, merged.line, merged.column, merged.marks = str(documents[0][0]), 1, 1, {}
    problems: list[Diagnostic] = []
    for path, doc in documents:
        if doc is None:
            continue
        if not isinstance(doc, MDict):
            problems.append(
                Diagnostic(
                    "",
                    "a mission file must be a mapping (apiVersion, kind, metadata, resources ...)",
                    Location(str(path), 1, 1),
                )
            )
            continue
        for key, value in doc.items():
            if key in MERGED_SECTIONS and isinstance(value, MDict):
                target = merged.get(key)
                if target is None:
                    target = MDict()
                    target.source, target.line, target.column, target.marks = value.source, value.line, value.column, {}
                    merged[key] = target
                    merged.marks[key] = _with_source(doc.marks[key], doc.source, merged.source)
                for sub, subvalue in value.items():
                    if sub in target:
                        first = target.mark(sub)
                        what = "resource id" if key == "resources" else f"{key} entry"
                        problems.append(
                            Diagnostic(
                                f"{key}.{sub}", f"duplicate {what} {sub!r} (also defined at {first})", value.mark(sub)
                            )
                        )
                        continue
                    target[sub] = subvalue
                    target.marks[sub] = _with_source(value.marks[sub], value.source, target.source)
            elif key in merged:
                if merged[key] != value or key == "metadata":
                    problems.append(
                        Diagnostic(
                            key, f"{key!r} is defined in more than one file (also at {merged.mark(key)})", doc.mark(key)
                        )
                    )
            else:
                merged[key] = value
                merged.marks[key] = _with_source(doc.marks[key], doc.source, merged.source)
    if problems:
        raise SpecError(problems)
    return merged


def _with_source(pos: tuple[Any, ...], source: str, container_source: str) -> tuple[Any, ...]:
    """A mark that names its file when it differs from the merged container's."""
    return pos if source == container_source else (pos[0], pos[1], source)


def parse_document(files: list[Path], contents: list[bytes]) -> MDict:
    """Parse and merge the files of one mission and check its envelope (SpecError otherwise)."""
    from ..validate.checks import envelope_diagnostics
    from .yamlsource import parse

    documents = [(f, parse(c, str(f))) for f, c in zip(files, contents, strict=True)]
    document = merge(documents) if len(documents) > 1 else documents[0][1]
    if not isinstance(document, MDict):
        raise SpecError(
            Diagnostic(
                "",
                "a mission file must be a mapping (apiVersion, kind, metadata, resources ...)",
                Location(str(files[0]), 1, 1),
            )
        )
    problems = envelope_diagnostics(document)
    if problems:
        raise EnvelopeInvalid(problems, document)
    return document


class EnvelopeInvalid(SpecError):
    """The mission parsed but breaks the envelope schema; ``document`` is kept so that
    validation can go on over what is usable and report every other problem in the same run."""

    def __init__(self, diagnostics: list[Diagnostic], document: MDict) -> None:
        super().__init__(diagnostics)
        self.document = document


def read_files(path: Path) -> tuple[list[Path], list[bytes]]:
    """The mission's files and their bytes; an unreadable file is a SpecError naming it."""
    from ..plan.file import has_plan_header

    files = mission_files(path)
    contents = []
    for f in files:
        try:
            contents.append(f.read_bytes())
        except OSError as exc:
            raise SpecError(Diagnostic("", f"cannot read {f}: {exc.strerror}", Location(str(f), 1, 1))) from None
        if has_plan_header(contents[-1][:256]):
            raise SpecError(
                Diagnostic(
                    "",
                    "this is a saved skyform plan, not a mission",
                    Location(str(f), 1, 1),
                    hint=f"apply it with `skyform apply {f}`; plan from the mission it was made from",
                )
            )
    return files, contents


def load(path: str | Path) -> Mission:
    """Load and envelope-check the mission at ``path`` without the cache."""
    path = Path(path)
    files, contents = read_files(path)
    directory = path if path.is_dir() else path.parent
    return build(
        parse_document(files, contents),
        directory.resolve(),
        files,
        content_digest(files, contents),
        source=path.resolve(),
    )


def build(document: MDict, directory: Path, files: list[Path], digest: str, source: Path | None = None) -> Mission:
    """The Mission of an envelope-valid document."""
    resources: dict[str, Resource] = {}
    for index, (rid, decl) in enumerate(document.get("resources", {}).items()):
        resources[rid] = Resource(
            id=rid,
            type=decl["type"],
            spec=decl["spec"],
            depends_on=tuple(decl.get("depends_on", ())),
            lifecycle=Lifecycle.from_spec(decl.get("lifecycle")),
            index=index,
            declaration=decl,
        )
    return Mission(
        name=document["metadata"]["name"],
        directory=directory,
        files=files,
        document=document,
        resources=resources,
        providers=dict(document.get("providers") or {}),
        variables=dict(document.get("variables") or {}),
        outputs=dict(document.get("outputs") or {}),
        digest=digest,
        metadata=dict(document["metadata"]),
        source=source,
        settings=dict(document.get("settings") or {}),
        budget=MissionBudget.from_spec(document.get("budget")),
        policy=MissionPolicy.from_spec(document.get("policy")),
    )


def build_usable(document: Any, directory: Path, files: list[Path], digest: str, source: Path | None = None) -> Mission:
    """A Mission of what an envelope-invalid document still holds, for validation only.

    A misspelt key in one resource must not hide the errors of every other one, so each
    section and resource is taken when its shape allows (a resource needs a string
    ``type`` and a mapping ``spec``); the envelope diagnostics already name the rest.
    """

    def mapping(value: Any) -> dict[str, Any]:
        return dict(value) if isinstance(value, dict) else {}

    doc = document if isinstance(document, MDict) else MDict()
    resources: dict[str, Resource] = {}
    for index, (rid, decl) in enumerate(mapping(doc.get("resources")).items()):
        if not (isinstance(decl, dict) and isinstance(decl.get("type"), str) and isinstance(decl.get("spec"), dict)):
            continue
        needs = decl.get("depends_on")
        try:
            lifecycle = Lifecycle.from_spec(decl.get("lifecycle") if isinstance(decl.get("lifecycle"), dict) else None)
        except (TypeError, ValueError, ArithmeticError):  # reported by the envelope; the defaults stand in
            lifecycle = Lifecycle()
        resources[str(rid)] = Resource(
            id=str(rid),
            type=decl["type"],
            spec=decl["spec"],
            index=index,
            declaration=decl,
            lifecycle=lifecycle,
            depends_on=tuple(d for d in needs if isinstance(d, str)) if isinstance(needs, list) else (),
        )
    metadata = mapping(doc.get("metadata"))
    if not isinstance(metadata.get("labels"), dict):
        metadata.pop("labels", None)
    name = metadata.get("name")
    return Mission(
        name=name if isinstance(name, str) else "",
        directory=directory,
        files=files,
        document=doc,
        resources=resources,
        providers=mapping(doc.get("providers")),
        variables=mapping(doc.get("variables")),
        outputs=mapping(doc.get("outputs")),
        digest=digest,
        metadata=metadata,
        source=source,
    )


__all__ = ["MISSION_SCHEMA", "Lifecycle", "Mission", "Resource", "load"]
