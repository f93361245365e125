"""Validation: the envelope, provider settings, each resource spec, expressions, the graph.

Every problem is collected (never the first only) as a :class:`Diagnostic` pointing at
``file:line:col``. Resource specs are checked against their kind's JSON Schema (Draft
2020-12, one reused validator per kind) after their expressions are resolved in a
:class:`~.scope.Scope`; values that are not known yet (``Unknown``) are skipped here and
checked again once resolved, before any request is sent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from ..errors import Diagnostic, Issue, SpecError
from ..graph import graph_diagnostics
from ..providers.base import CheckContext, ResourceKind
from ..spec.envelope import MISSION_SCHEMA
from ..spec.expressions import walk
from ..spec.secrets import Secrets
from ..spec.values import Unknown, is_known
from ..spec.yamlsource import MDict, locate
from ..suggest import did_you_mean
from .expression_types import expression_type_diagnostics
from .lifecycle_fields import ignore_changes_diagnostics
from .messages import explain
from .scope import Scope

if TYPE_CHECKING:  # jsonschema is imported only when an instance is not plainly valid (start-up time)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


class SchemaCheck:
    """A compiled schema: jsonschema (the reference) with jsonschema-rs as a fast path.

    jsonschema-rs only ever *accepts*: when it finds an instance valid, the verdict stands
    (~100x cheaper); anything it rejects - and anything holding values it cannot see, such
    as Unknown - goes to jsonschema, whose errors are the ones reported. A meta-test checks
    on every kind's cases that jsonschema-rs never accepts what jsonschema rejects.
    """

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self._reference: Draft202012Validator | None = None
        self.fast: Any = None
        try:
            import jsonschema_rs

            self.fast = jsonschema_rs.Draft202012Validator(dict(schema), validate_formats=True)
        except Exception:  # not installed, or a schema it cannot compile: the reference alone
            self.fast = None

    @property
    def reference(self) -> Draft202012Validator:
        """jsonschema's validator, built (and jsonschema imported, ~60-100 ms) on first need."""
        if self._reference is None:
            from jsonschema import Draft202012Validator, FormatChecker

            self._reference = Draft202012Validator(self.schema, format_checker=FormatChecker())
        return self._reference

    def iter_errors(self, instance: Any) -> Iterable[ValidationError]:
        if self.fast is not None and is_known(instance):
            try:
                if self.fast.is_valid(instance):
                    return iter(())
            except Exception:  # values it cannot convert: let the reference decide
                pass
        return self.reference.iter_errors(instance)


_VALIDATORS: dict[int, SchemaCheck] = {}


def kind_validator(kind: ResourceKind | Any, schema: Mapping[str, Any] | None = None) -> SchemaCheck:
    """One reused validator per schema object (building one per call is ~37x slower)."""
    schema = kind.spec_schema if schema is None else schema
    key = id(schema)
    validator = _VALIDATORS.get(key)
    if validator is None:
        validator = SchemaCheck(schema)
        _VALIDATORS[key] = validator
    return validator


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    return False


def _message(error: ValidationError, path: tuple[Any, ...]) -> tuple[str, str | None]:
    """(message, hint) in the user's words (see :mod:`.messages`); an unknown field names
    the allowed ones and the nearest."""
    custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
    if error.validator == "additionalProperties" and isinstance(error.instance, dict) and not isinstance(custom, str):
        allowed = list((cast(Mapping[str, Any], error.schema).get("properties") or {}).keys())
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            hint = did_you_mean(str(extra[0]), allowed)
            return (
                f"unknown field {extra[0]!r}"
                + (f" ({hint})" if hint else "")
                + (f"; allowed: {', '.join(allowed)}" if allowed and len(allowed) <= 30 else "")
            ), None
    return explain(error, path)


def _extra_key(error: ValidationError) -> Any:
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set((cast(Mapping[str, Any], error.schema).get("properties") or {}).keys())
        for k in error.instance:
            if k not in allowed:
                return k
    return None


def schema_diagnostics(
    validator: SchemaCheck, instance: Any, root: Any, base: tuple[Any, ...], type_name: str | None
) -> list[Diagnostic]:
    """Diagnostics for ``instance`` (at ``base`` in ``root``), skipping Unknown-caused errors."""
    out: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    for error in validator.iter_errors(instance):
        if isinstance(error.instance, Unknown) or (
            error.validator in ("anyOf", "oneOf", "allOf", "if", "not") and _contains_unknown(error.instance)
        ):
            continue
        path = base + tuple(error.absolute_path)
        extra = _extra_key(error)
        if extra is not None:
            path = path + (extra,)
        dotted = ".".join(str(p) for p in path)
        message, hint = _message(error, base + tuple(error.absolute_path))
        if (dotted, message) in seen:  # one errorMessage may stand for several failing keywords
            continue
        seen.add((dotted, message))
        out.append(Diagnostic(path=dotted, message=message, location=locate(root, path), type=type_name, hint=hint))
    return out


def envelope_diagnostics(document: MDict) -> list[Diagnostic]:
    """The engine-owned schema: apiVersion, kind, metadata, providers, resources...; and no
    NaN or infinity anywhere (they slip through every numeric bound: NaN > limit is False)."""
    found = schema_diagnostics(kind_validator(None, MISSION_SCHEMA), document, document, (), "mission")
    found += [
        Diagnostic(".".join(map(str, path)), f"{value} is not a finite number", locate(document, path), "mission")
        for path, value in _non_finite(document, ())
    ]
    return sorted(found, key=_order)


def _non_finite(value: Any, path: tuple[Any, ...]) -> Iterable[tuple[tuple[Any, ...], float]]:
    stack = [(value, path)]
    while stack:
        v, p = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            yield p, v
        elif isinstance(v, dict):
            stack.extend((x, p + (k,)) for k, x in v.items())
        elif isinstance(v, list):
            stack.extend((x, p + (i,)) for i, x in enumerate(v))


def _order(d: Diagnostic) -> tuple[str, int, int]:
    loc = d.location
    return (loc.file, loc.line, loc.column) if loc else ("", 0, 0)


def combine(envelope: list[Diagnostic], found: list[Diagnostic]) -> list[Diagnostic]:
    """Envelope and validation diagnostics as one list in source order: a path the more
    specific validation check reported keeps only that report; exact repeats go."""
    specific = {d.path for d in found}
    return deduplicated([d for d in envelope if d.path not in specific] + found)


def deduplicated(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """One of each (path, message) - a schema rule and a provider rule may say the same -
    sorted by file, line and column."""
    seen: set[tuple[str, str]] = set()
    out = []
    for d in sorted(diagnostics, key=_order):
        if (d.path, d.message) not in seen:
            seen.add((d.path, d.message))
            out.append(d)
    return out


def issue_diagnostics(issues: Iterable[Issue], root: Any, base: tuple[Any, ...], type_name: str) -> list[Diagnostic]:
    """Turn a provider's Issues (paths relative to a spec) into located Diagnostics."""
    out = []
    for issue in issues:
        path = base + tuple(issue.path)
        out.append(
            Diagnostic(
                ".".join(map(str, path)),
                issue.message,
                locate(root, path),
                type_name,
                hint=issue.hint,
                severity=issue.severity,
            )
        )
    return out


def validate_mission(
    mission: Any,
    registry: Any,
    *,
    secrets: Secrets | None = None,
    today: date | None = None,
    outputs: Mapping[str, Mapping[str, Any]] | None = None,
    require_secrets: bool = False,
) -> list[Diagnostic]:
    """Every problem in ``mission`` beyond the envelope (already checked by loading)."""
    scope = Scope(mission, secrets or Secrets(), outputs or {}, require_secrets, registry)
    problems: list[Diagnostic] = []
    doc = mission.document
    for name, settings in mission.providers.items():
        provider = registry.providers.get(name)
        if provider is None:
            problems.append(
                Diagnostic(
                    f"providers.{name}",
                    f"unknown provider {name!r}; installed: {', '.join(sorted(registry.providers)) or 'none'}",
                    locate(doc, ("providers", name)),
                    "mission",
                    hint=did_you_mean(name, list(registry.providers)),
                )
            )
            continue
        resolved = scope.resolve_at(settings, ("providers", name), problems, name)
        if resolved is not None:
            problems += schema_diagnostics(
                kind_validator(provider, provider.settings_schema),
                resolved,
                doc,
                ("providers", name),
                f"{name} settings",
            )
    today = today or date.today()
    for rid, resource in mission.resources.items():
        base = ("resources", rid, "spec")
        found = registry.resolve_type(resource.type)
        if found is None:
            pname, kname = resource.provider, resource.kind
            provider = registry.providers.get(pname)
            installed = ", ".join(sorted(registry.providers))
            if not kname:
                msg = (
                    f"type {resource.type!r} is not of the form <provider>.<Kind> (e.g. nodeodm.Task); "
                    f"installed providers: {installed}"
                )
                hint = did_you_mean(pname, list(registry.providers))
            elif provider is None:
                msg = f"unknown provider {pname!r} in type {resource.type!r}; installed: {installed}"
                hint = did_you_mean(pname, list(registry.providers))
            else:
                kinds = [k.name for k in provider.kinds]
                msg = f"provider {pname!r} has no kind {kname!r}; kinds: {', '.join(kinds)}"
                hint = did_you_mean(kname, kinds)
            problems.append(
                Diagnostic(
                    f"resources.{rid}.type", msg, locate(doc, ("resources", rid, "type")), resource.type, hint=hint
                )
            )
            scope.resolve_all(resource.spec, base, problems, resource.type)  # its references still count
            continue
        provider, kind = found
        for dep in resource.depends_on:
            if dep not in mission.resources:
                i = list(resource.depends_on).index(dep)
                problems.append(
                    Diagnostic(
                        f"resources.{rid}.depends_on.{i}",
                        f"no resource {dep!r} in this mission",
                        locate(doc, ("resources", rid, "depends_on", i)),
                        resource.type,
                        hint=did_you_mean(dep, list(mission.resources)),
                    )
                )
        spec = scope.resolve_all(resource.spec, base, problems, resource.type)
        problems += schema_diagnostics(kind_validator(kind), spec, doc, base, resource.type)
        problems += expression_type_diagnostics(
            resource.spec, spec, kind.spec_schema, mission, registry, base, resource.type
        )
        problems += ignore_changes_diagnostics(resource, kind.spec_schema, doc)
        try:
            issues = list(kind.check(spec, CheckContext(today=today, mission_dir=mission.directory, address=rid)))
        except Exception as exc:  # a provider bug must not hide the user's other errors
            issues = [Issue((), f"internal error in {resource.type} checks: {type(exc).__name__}: {exc}")]
        problems += issue_diagnostics(issues, doc, base, resource.type)
    for name, value in mission.outputs.items():
        scope.resolve_at(value, ("outputs", name), problems, "mission")
    for path, _ in walk(mission.variables, ("variables",)):
        problems.append(
            Diagnostic(
                ".".join(map(str, path)),
                "expressions are not allowed in variables "
                "(variables are plain values; reference secrets and outputs where they are used)",
                locate(doc, path),
                "mission",
            )
        )
    problems += graph_diagnostics(mission)
    return deduplicated(problems)


def raise_for(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Raise SpecError when any diagnostic is an error; return the warnings."""
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise SpecError(diagnostics)
    return diagnostics
