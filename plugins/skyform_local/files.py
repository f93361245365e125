"""Kind ``local.Files``: a folder or glob of files → a manifest with sha256 per file.

The manifest is the resource's outputs; "remote" state is the disk itself, so ``read``
re-hashes the files and a changed file shows as drift (an update in the plan). Hashing
skips files whose size and mtime match the recorded manifest, so re-plans of large image
sets stay cheap.

Every output is checkout-independent: ``paths`` and ``files[].path`` name a file inside the
mission directory relative to it (POSIX), one outside it (an absolute ``paths`` entry) as
it is, and ``manifest_sha256`` hashes those names with each file's sha256. The same
mission in two checkouts (two machines, a moved directory, a gitops mirror) therefore
records the same values, and a ``nodeodm.Task`` whose immutable ``images`` come from
``paths`` is not replaced. Consumers resolve the names against the mission directory
(``ctx.path``, ``ctx.local_file``).

Records made when paths were absolute are rewritten by the engine before planning
(:meth:`FilesKind.relocate`, :mod:`.relocation`); a record whose set is still the same
files keeps its digest, whichever formula made it (:func:`legacy_manifest` is the oldest):
a new digest would change the ``fingerprint`` of every task made from the set, and replace them.
"""

from __future__ import annotations

import hashlib
import os.path
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from skyform.catalog.model import Asset, Dataset
from skyform.errors import Issue, PermanentError
from skyform.providers import CheckContext, Cost, OperationContext, Record, ResourceKind, Result
from skyform.spec.values import is_known

from .relocation import recorded_in, relative_path
from .schemas import OUTPUTS_SCHEMA, SPEC_SCHEMA


def manifest_digest(entries: Iterable[Mapping[str, Any]], base: Path) -> str:
    """The set's digest: its files' paths relative to ``base`` (the mission directory), with
    their sha256; a path outside it (an absolute ``paths`` entry) counts as it is."""
    return hashlib.sha256(
        "".join(f"{relative_path(e['path'], base)}\0{e['sha256']}\n" for e in entries).encode()
    ).hexdigest()


def legacy_manifest(entries: Iterable[Mapping[str, Any]]) -> str:
    """The digest as recorded before it was relative: over the absolute paths."""
    return hashlib.sha256("".join(f"{e['path']}\0{e['sha256']}\n" for e in entries).encode()).hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class FilesKind(ResourceKind):
    """A folder or glob of files, fingerprinted."""

    name = "Files"
    description = "Local files (e.g. a flight's photos) with a sha256 manifest."
    spec_schema = SPEC_SCHEMA
    outputs_schema = OUTPUTS_SCHEMA
    stable_outputs = frozenset()  # every output is derived from the files' contents
    delete_mode = "forget"
    delete_note = "local files are never deleted; only the record is dropped"

    def estimate_cost(self, spec: Mapping[str, Any], ctx: OperationContext) -> Cost | None:
        """Files on this machine are read, not bought: nothing to pay."""
        return Cost.free("files read on this machine")

    def check(self, spec: Mapping[str, Any], ctx: CheckContext) -> Iterable[Issue]:
        """Patterns stay inside the mission directory and match files, named paths exist:
        said at validate time, not only when apply reaches the resource."""
        patterns = spec.get("glob")
        matched: set[Path] = set()
        complete = is_known(patterns) and is_known(spec.get("paths"))
        for i, pattern in enumerate([patterns] if isinstance(patterns, str) else (patterns or [])):
            if not isinstance(pattern, str) or not is_known(pattern):
                continue
            path: tuple[Any, ...] = ("glob",) if isinstance(patterns, str) else ("glob", i)
            if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
                yield Issue(path, f"glob {pattern!r} must stay inside the mission directory")
                continue
            found = [p for p in ctx.mission_dir.glob(pattern) if p.is_file()]
            if not found:
                yield Issue(
                    path,
                    f"glob {pattern!r} matches no file in {ctx.mission_dir}",
                    hint="patterns are relative to the mission directory; ** matches directories",
                )
            matched.update(found)
        paths = spec.get("paths")
        for i, name in enumerate(paths if isinstance(paths, list) else []):
            if isinstance(name, str) and is_known(name):
                file = Path(name) if Path(name).is_absolute() else ctx.mission_dir / name
                if not file.is_file():
                    yield Issue(("paths", i), f"{name!r} is not a file (looked in {ctx.mission_dir})")
                matched.add(file)
        minimum = spec.get("min_count", 1)
        if complete and isinstance(minimum, int) and matched and len(matched) < minimum:
            matches = "1 file matches" if len(matched) == 1 else f"{len(matched)} files match"
            yield Issue(("min_count",), f"min_count is {minimum}, but only {matches}")

    def _match(self, spec: Mapping[str, Any], base: Path) -> list[Path]:
        found: set[Path] = set()
        patterns = spec.get("glob")
        for pattern in [patterns] if isinstance(patterns, str) else (patterns or []):
            matched = [p for p in base.glob(pattern) if p.is_file()]
            if not matched:
                raise PermanentError(
                    f"local.Files: no file matches {pattern!r} in {base}",
                    field="glob",
                    hint="check the pattern and the mission directory",
                )
            found.update(matched)
        for p in spec.get("paths") or ():
            path = Path(p) if Path(p).is_absolute() else base / p
            if not path.is_file():
                raise PermanentError(f"local.Files: {p!r} is not a file (looked in {base})", field="paths")
            found.add(path)
        files = sorted(p.resolve() for p in found)
        if len(files) < int(spec.get("min_count", 1)):
            raise PermanentError(
                f"local.Files: {len(files)} file(s) found, fewer than min_count {spec.get('min_count')}"
            )
        return files

    def _manifest(self, files: list[Path], base: Path, previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
        base = base.resolve()
        recorded = list((previous or {}).get("files", []))
        known = {relative_path(str(f["path"]), base): f for f in recorded}
        entries = []
        total = 0
        for path in files:
            name = relative_path(str(path), base)
            st = path.stat()
            old = known.get(name)
            if old and old.get("bytes") == st.st_size and old.get("mtime_ns") == st.st_mtime_ns:
                digest = old["sha256"]
            else:
                digest = _sha256(path)
            entry = {"path": name, "sha256": digest, "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
            if old and old.get("sha256") == digest and old.get("artifact"):
                entry["artifact"] = old["artifact"]  # still published: a refresh keeps the reference
            entries.append(entry)
            total += st.st_size
        manifest = manifest_digest(entries, base)
        was = [(name, f["sha256"]) for name, f in known.items()]
        if previous and previous.get("manifest_sha256") and was == [(e["path"], e["sha256"]) for e in entries]:
            # the same files by name and content: the digest the dependants were made with stays,
            # whichever formula made it (the legacy one hashed absolute paths)
            manifest = str(previous["manifest_sha256"])
        return {
            "paths": [e["path"] for e in entries],
            "count": len(entries),
            "bytes": total,
            "files": entries,
            "manifest_sha256": manifest,
        }

    def create(self, spec: Mapping[str, Any], ctx: OperationContext) -> Result:
        outputs = self._manifest(self._match(spec, ctx.mission_dir), ctx.mission_dir)
        if ctx.artifacts.shared:
            self._publish(outputs["files"], ctx)
        return Result(
            remote_id=outputs["manifest_sha256"][:16],
            outputs=outputs,
            observed={"manifest_sha256": outputs["manifest_sha256"]},
        )

    def read(self, record: Record, ctx: OperationContext) -> Result | None:
        try:
            outputs = self._manifest(self._match(record.spec, ctx.mission_dir), ctx.mission_dir, record.outputs)
        except PermanentError:
            return None  # the files are gone: the plan recreates (and then reports the error)
        return Result(
            remote_id=record.remote_id, outputs=outputs, observed={"manifest_sha256": outputs["manifest_sha256"]}
        )

    def update(self, record: Record, spec: Mapping[str, Any], changes: list[Any], ctx: OperationContext) -> Result:
        return self.create(spec, ctx)

    def relocate(self, record: Record, mission_dir: Path) -> dict[str, str]:
        """A record made when paths were absolute (an older skyform, maybe in another checkout):
        each file's absolute path mapped to its name relative to the directory the record was
        made in, which the record itself proves (:func:`.relocation.recorded_in`)."""
        files = record.outputs.get("files") or []
        paths = [f.get("path") for f in files if isinstance(f, Mapping)]
        if not paths or not all(isinstance(p, str) and os.path.isabs(p) for p in paths):
            return {}  # today's form (names relative to the mission directory), or nothing recorded
        old = recorded_in(record.spec, files, str(record.outputs.get("manifest_sha256") or ""), mission_dir)
        if old is None:
            return {}
        found = {str(p): relative_path(str(p), old) for p in paths}
        return {p: name for p, name in found.items() if name != p}

    def _publish(self, entries: list[dict[str, Any]], ctx: OperationContext) -> None:
        """Put every file in the shared artifact store (a worker elsewhere fetches it by digest).

        Only a shared store (``settings.artifacts`` or ``SKYFORM_ARTIFACTS``): the mission's own
        default store is on this disk, beside the files themselves, and a copy of every photo
        there would serve no one. A file already stored (another mission's) is not sent again.
        """
        from skyform.artifacts import Digest

        ctx.reporter.phase("uploading")
        for i, entry in enumerate(entries):
            digest = ctx.artifacts.put(ctx.path(entry["path"]), expected=Digest(entry["sha256"]))
            entry["artifact"] = str(digest)
            ctx.reporter.progress((i + 1) / len(entries), f"published {i + 1}/{len(entries)} file(s)")

    def delete(self, record: Record, ctx: OperationContext) -> None:
        return None

    def datasets(self, record: Record) -> list[Dataset]:
        """The file set as the mission's input: one asset per file, with the recorded sha256."""
        import mimetypes  # only for a catalog: validating and planning never need it

        files = record.outputs.get("files") or []
        assets = tuple(
            Asset(
                key=_asset_key(f["path"], i),
                path=f["path"],
                sha256=f.get("sha256"),
                size=f.get("bytes"),
                media_type=mimetypes.guess_type(f["path"])[0] or "application/octet-stream",
                roles=("data", "source"),
                title=Path(f["path"]).name,
            )
            for i, f in enumerate(files)
        )
        return [
            Dataset(
                key="files",
                title=f"{len(files)} file(s) of {record.address}",
                assets=assets,
                role="input",
                properties={"skyform:manifest_sha256": record.outputs.get("manifest_sha256", "")},
            )
        ]


def _asset_key(path: str, index: int) -> str:
    """A STAC asset key: the file name, unique within the set (two folders may share names)."""
    return f"{index:04d}-{Path(path).name}"
