"""What expressions resolve against, and which resources a spec refers to.

:class:`Scope` answers each ``${{ ... }}`` reference (variables, mission metadata, secrets,
recorded outputs); :func:`references` extracts resource → referenced resources for the
graph. Both are read by validation, the graph, planning and apply alike, so they sit apart
from :mod:`.checks`, which only validates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import Diagnostic
from ..spec.expressions import ExpressionError, Reference, dig, find, resolve, walk
from ..spec.secrets import Secrets
from ..spec.values import Unknown
from ..spec.yamlsource import locate
from ..suggest import did_you_mean


@dataclass
class Scope:
    """What expressions resolve against.

    ``outputs`` maps resource ids to recorded outputs that are known for this run (an
    ``Unknown`` among them: an output the planned update will change); any other
    resource's outputs are Unknown. ``require_secrets``: a missing secret is an
    error (plan/apply) rather than Unknown (validate).
    """

    mission: Any
    secrets: Secrets
    outputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    require_secrets: bool = False
    registry: Any = None

    def lookup(self, ref: Reference) -> Any:
        if ref.root == "var":
            return dig(self.mission.variables, ref.path, str(ref))
        if ref.root == "mission":
            info = {
                "name": self.mission.name,
                "directory": str(self.mission.directory),
                "labels": dict(self.mission.metadata.get("labels") or {}),
            }
            return dig(info, ref.path, str(ref))
        if ref.root == "secrets":
            name = str(ref.path[0])
            value = self.secrets.get(name)
            if value is None:
                if self.require_secrets:
                    raise ExpressionError(
                        f"secret {name!r} is not set",
                        hint=f"export {Secrets.variable(name)}=... or pass --secrets-file",
                    )
                return Unknown(str(ref))
            return dig(value, ref.path[1:], str(ref)) if len(ref.path) > 1 else value
        rid = ref.resource
        assert rid is not None
        resources = self.mission.resources
        if rid not in resources:
            raise ExpressionError(
                f"{ref}: no resource {rid!r} in this mission", hint=did_you_mean(rid, list(resources))
            )
        self._check_output_name(ref, resources[rid].type)
        if rid in self.outputs:
            found = dig(self.outputs[rid], ref.path[2:], str(ref))
            # an output the plan's update of ``rid`` will change: known after apply
            return Unknown(str(ref)) if isinstance(found, Unknown) else found
        return Unknown(str(ref))

    def _check_output_name(self, ref: Reference, type_name: str) -> None:
        if self.registry is None:
            return
        found = self.registry.resolve_type(type_name)
        if found is None:
            return
        schema = found[1].outputs_schema
        props = schema.get("properties") or {}
        if schema.get("additionalProperties", True) is False and props and ref.path[2] not in props:
            raise ExpressionError(
                f"{ref}: {type_name} has no output {ref.path[2]!r}; outputs: {', '.join(props)}",
                hint=did_you_mean(str(ref.path[2]), list(props)),
            )

    def resolve_at(self, value: Any, base: tuple[Any, ...], problems: list[Diagnostic], type_name: str | None) -> Any:
        """Resolve ``value``; each failing expression becomes a diagnostic at its own path."""
        try:
            return resolve(value, self.lookup)
        except ExpressionError:
            pass
        # resolve piecewise to report every bad expression at its own location
        for path, text in walk(value):
            try:
                resolve(text, self.lookup)
            except ExpressionError as exc:
                problems.append(self._problem(exc, base + path, type_name))
        return None

    def _problem(self, exc: ExpressionError, path: tuple[Any, ...], type_name: str | None) -> Diagnostic:
        """A bad expression, reported at its own place in the mission's files."""
        return Diagnostic(
            ".".join(map(str, path)), str(exc), locate(self.mission.document, path), type_name, hint=exc.hint
        )

    def resolve_all(self, value: Any, base: tuple[Any, ...], problems: list[Diagnostic], type_name: str | None) -> Any:
        """Resolve ``value``; each failing expression becomes a diagnostic and an Unknown, so
        that the checks of everything around it still run (all errors at once)."""

        def lookup_or_unknown(text: str, path: tuple[Any, ...]) -> Any:
            try:
                return resolve(text, self.lookup)
            except ExpressionError as exc:
                problems.append(self._problem(exc, base + path, type_name))
                return Unknown(text)

        def walk_value(v: Any, path: tuple[Any, ...]) -> Any:
            if isinstance(v, str):
                return lookup_or_unknown(v, path) if "${{" in v else v
            if isinstance(v, dict):
                return {k: walk_value(x, path + (k,)) for k, x in v.items()}
            if isinstance(v, list):
                return [walk_value(x, path + (i,)) for i, x in enumerate(v)]
            return v

        return walk_value(value, ())


def references(mission: Any) -> dict[str, set[str]]:
    """Resource id → ids it references through expressions (parse errors are ignored here)."""
    out: dict[str, set[str]] = {}
    for rid, resource in mission.resources.items():
        refs: set[str] = set()
        for _, text in walk(resource.spec):
            try:
                refs.update(r.resource for r in find(text) if r.resource)
            except ExpressionError:
                pass
        out[rid] = refs
    return out
