"""A content-hash cache of parsed missions and of their validation verdicts.

Parsing YAML dominates the cost of a large mission (DESIGN.md, Performance). The parsed
tree (with its locations) is pickled in the user's cache directory (platformdirs:
``~/.cache/skyform/missions/`` on Linux), never in the mission's directory, so validating or
planning a git work tree writes nothing into it; entries are keyed by the sha256 of the
mission files, so an unchanged spec is not parsed again; a verdict "valid" is remembered
for the same content, the same installed providers and the same day (semantic checks
depend on today's date). A corrupt or foreign cache entry is ignored and rewritten.

Entries are signed with an HMAC keyed by a per-user secret (``skyform.key`` in the user's
cache directory, mode 0600): a pickle planted in the cache by someone else is never
unpickled.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import sys
from datetime import date
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import Diagnostic
from .mission import EnvelopeInvalid, Mission, build, build_usable, content_digest, parse_document, read_files

CACHE_VERSION = 2  # bumped when Mission gains fields (pickles of the old shape are not reused)
DISABLED = os.environ.get("SKYFORM_NO_CACHE", "") not in ("", "0")


def user_cache_dir() -> Path:
    """``platformdirs.user_cache_dir("skyform")``; on Linux worked out here by the XDG rule
    platformdirs follows (``$XDG_CACHE_HOME`` when absolute, else ``~/.cache``), because
    importing platformdirs (it pulls in tempfile, shutil, random) costs a tenth of
    ``skyform validate``'s start-up. Anything unusual (a relative ``HOME``) asks platformdirs."""
    home = os.environ.get("HOME")
    if sys.platform == "linux" and (home is None or os.path.isabs(home)):
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        return Path(xdg if os.path.isabs(xdg) else os.path.expanduser("~/.cache"), "skyform")
    import platformdirs

    return Path(platformdirs.user_cache_dir("skyform"))


def _cache_dir(directory: Path) -> Path:
    """The cache of one mission directory, under the user's cache directory."""
    key = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:24]
    return user_cache_dir() / "missions" / key


def _registry_key(registry: Any, mission: Mission) -> str:
    """The versions of the providers the mission names: only those can change its verdict
    (and only those are loaded, so an unchanged mission does not import the others)."""
    used = sorted({r.provider for r in mission.resources.values()} | set(mission.providers))
    versions = [
        f"{name}={registry.providers[name].version}" if name in registry.providers else f"{name}=?" for name in used
    ]
    return ",".join(versions)


def _verdict_key(mission: Mission, registry: Any, today: date) -> str:
    key = f"{mission.digest}|{_registry_key(registry, mission)}|{today.isoformat()}|{__version__}"
    return hashlib.sha256(key.encode()).hexdigest()


def load_cached(path: Path, registry: Any, today: date) -> tuple[Mission, bool, list[Diagnostic]]:
    """The mission at ``path`` (parsed or from the cache), whether it is known to be valid,
    and its envelope problems (then the mission holds only the usable part, never cached)."""
    files, contents = read_files(path)
    digest = content_digest(files, contents)
    directory = (path if path.is_dir() else path.parent).resolve()
    entry = _cache_dir(directory) / f"{digest}.pickle"
    if not DISABLED and entry.exists():
        try:
            data = _unsigned(entry.read_bytes())
            if (
                data is not None
                and data.get("version") == CACHE_VERSION
                and data.get("sources") == [str(f) for f in files]
            ):
                mission = build(data["document"], directory, files, digest, source=path.resolve())
                return mission, data.get("valid") == _verdict_key(mission, registry, today), []
        except Exception:  # a damaged cache entry is just a miss
            pass
    try:
        document = parse_document(files, contents)
    except EnvelopeInvalid as exc:
        return build_usable(exc.document, directory, files, digest, source=path.resolve()), False, exc.diagnostics
    return build(document, directory, files, digest, source=path.resolve()), False, []


def remember(mission: Mission, registry: Any, today: date, *, valid: bool) -> None:
    """Cache the parsed mission, with the verdict "valid" when it validated cleanly today."""
    entry = _cache_dir(mission.directory) / f"{mission.digest}.pickle"
    _store(
        entry,
        {
            "version": CACHE_VERSION,
            "sources": [str(f) for f in mission.files],
            "document": mission.document,
            "valid": _verdict_key(mission, registry, today) if valid else None,
        },
    )


def _store(entry: Path, data: dict[str, Any]) -> None:
    if DISABLED:
        return
    import tempfile  # here: a cache hit writes nothing, and tempfile pulls in shutil and random

    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
        payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(fd, "wb") as fh:
            fh.write(hmac.new(_key(), payload, hashlib.sha256).digest() + payload)
        os.replace(tmp, entry)
        for old in entry.parent.glob("*.pickle"):  # keep the cache from growing without end
            if old != entry and old.stat().st_mtime < entry.stat().st_mtime - 86400:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only mission directory simply runs uncached


_KEY: bytes | None = None


def _key() -> bytes:
    """The per-user signing key (created on first use, readable by the user only)."""
    global _KEY
    if _KEY is None:
        path = user_cache_dir() / "skyform.key"
        try:
            _KEY = path.read_bytes()
        except OSError:
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            key = secrets.token_bytes(32)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key)
            _KEY = key
    return _KEY


def _unsigned(blob: bytes) -> Any:
    """The cached data if its signature is ours, else None (never unpickle foreign bytes)."""
    mac, payload = blob[:32], blob[32:]
    if len(mac) < 32 or not hmac.compare_digest(mac, hmac.new(_key(), payload, hashlib.sha256).digest()):
        return None
    return pickle.loads(payload)
