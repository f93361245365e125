"""The content-addressed artifact store: bytes kept once under their own sha256, on any fsspec filesystem.

Layout under the store's root (the same on disk and in a bucket)::

    sha256/<first 2 hex>/<64 hex>     a complete object, never overwritten
    tmp/<epoch ms>-<random>           an object being written (invisible to readers)

A put streams the bytes to a temporary key while hashing them, then makes the object
visible in one step (a hard link on a local disk, a server-side copy on S3) and removes the
temporary key, so a writer killed at any instant leaves no partial object under ``sha256/``;
at worst a temporary key that ``gc`` removes once it is older than the grace period. An
object that exists already is not written again (two missions, one copy). Every read
re-hashes the bytes: a corrupt object is an error naming its digest, never silently used.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import ArtifactCorrupt, ArtifactError, ArtifactMissing, TransientError
from .digest import CHUNK, Digest

OBJECTS = "sha256"
TEMPORARY = "tmp"
#: what gc spares: a temporary key or unreferenced object younger than this may belong to a
#: run still writing it, or to a record not written yet
DEFAULT_GRACE = 3600.0


@dataclass(frozen=True)
class StoredObject:
    """One complete object: its digest, size in bytes and when it was made visible (epoch s)."""

    digest: Digest
    size: int
    modified: float


@dataclass
class Collection:
    """What a gc found: objects to delete, objects kept young, temporary keys to delete."""

    unreferenced: list[StoredObject] = field(default_factory=list)
    young: list[StoredObject] = field(default_factory=list)
    referenced: list[StoredObject] = field(default_factory=list)
    stale_temporaries: list[str] = field(default_factory=list)
    #: S3 multipart uploads a killed writer left unfinished under tmp/: (key, upload id)
    stale_uploads: list[tuple[str, str]] = field(default_factory=list)

    @property
    def freed(self) -> int:
        return sum(o.size for o in self.unreferenced)


class ArtifactStore:
    """Objects by digest on one fsspec filesystem (``fs``) under ``root`` (a path in it).

    ``url`` is how people see the store (credentials never part of it); ``shared`` is
    True when the mission or the environment named the store, False for the mission's own
    default, which no other machine can reach.
    """

    def __init__(self, fs: Any, root: str, url: str, *, shared: bool = False) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.url = url
        self.shared = shared
        self.local = "file" in _protocols(fs)

    def __repr__(self) -> str:
        return f"ArtifactStore({self.url!r})"

    # -- keys ----------------------------------------------------------------------------
    def key(self, digest: Digest) -> str:
        return f"{self.root}/{OBJECTS}/{digest.hex[:2]}/{digest.hex}"

    def _temporary_key(self) -> str:
        return f"{self.root}/{TEMPORARY}/{int(time.time() * 1000)}-{secrets.token_hex(8)}"

    # -- writing -------------------------------------------------------------------------
    def put(self, source: Path | BinaryIO, *, expected: Digest | None = None) -> Digest:
        """Store a file or a binary stream; returns its digest. Already stored: not written again.

        ``expected``: the file's digest if the caller has just computed it (a manifest), so
        that a file already in the store is not read at all; the bytes written are checked
        against it all the same.
        """
        if isinstance(source, Path):
            expected = expected or Digest.of_file(source)
            if self.exists(expected):
                return expected
            with source.open("rb") as fh:
                digest = self._write(fh)
            if digest != expected:
                raise ArtifactError(
                    f"{source} changed while it was being stored (sha256 {expected.short}... then {digest.short}...)",
                    digest=str(expected),
                    hint="store it again once nothing writes to it",
                )
            return digest
        return self._write(source)

    def _write(self, stream: BinaryIO) -> Digest:
        temporary = self._temporary_key()
        h = hashlib.sha256()
        try:
            with self._io("write a temporary object"):
                if self.local:
                    self.fs.makedirs(temporary.rsplit("/", 1)[0], exist_ok=True)
                with self.fs.open(temporary, "wb") as out:
                    for chunk in iter(lambda: stream.read(CHUNK), b""):
                        h.update(chunk)
                        out.write(chunk)
                    if self.local:
                        out.flush()
                        os.fsync(out.fileno())
            digest = Digest(h.hexdigest())
            self._publish(temporary, digest)
        except BaseException:
            self._discard(temporary)
            raise
        return digest

    def _publish(self, temporary: str, digest: Digest) -> None:
        """Make the object visible in one step, never replacing one that exists."""
        final = self.key(digest)
        with self._io(f"publish {digest}"):
            if self.local:
                os.makedirs(os.path.dirname(final), exist_ok=True)
                try:
                    os.link(temporary, final)  # fails if it exists: never overwritten
                except FileExistsError:
                    pass
            elif not self.fs.exists(final):
                self.fs.copy(temporary, final)  # server-side: the object appears complete or not at all
        self._discard(temporary)

    def _discard(self, temporary: str) -> None:
        try:
            self.fs.rm(temporary)
        except (FileNotFoundError, OSError):
            pass  # never written, or the store went away: gc removes it later

    # -- reading -------------------------------------------------------------------------
    def exists(self, digest: Digest) -> bool:
        with self._io(f"look up {digest}"):
            return bool(self.fs.exists(self.key(digest)))

    def open(self, digest: Digest) -> VerifiedReader:
        """A reader of the object that re-hashes what it reads and raises at the end if it differs."""
        try:
            with self._io(f"open {digest}"):
                fh = self.fs.open(self.key(digest), "rb")
        except FileNotFoundError:
            raise ArtifactMissing(
                f"artifact {digest} is not in the store {self.url}",
                digest=str(digest),
                hint="skyform artifacts ls lists what the store holds",
            ) from None
        return VerifiedReader(fh, digest, self.url)

    def fetch(self, digest: Digest, destination: Path) -> Path:
        """Copy an object to a local file, verified before the file appears under its name."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.part")
        try:
            with self.open(digest) as reader, partial.open("wb") as out:
                for chunk in iter(lambda: reader.read(CHUNK), b""):
                    out.write(chunk)
            partial.replace(destination)
        finally:
            partial.unlink(missing_ok=True)
        return destination

    def verify(self, digest: Digest) -> None:
        """Read the whole object; ArtifactCorrupt or ArtifactMissing if it is not intact."""
        with self.open(digest) as reader:
            while reader.read(CHUNK):
                pass

    # -- listing and collecting ----------------------------------------------------------
    def ls(self) -> list[StoredObject]:
        """Every complete object, by digest."""
        with self._io("list objects"):
            found = self.fs.find(f"{self.root}/{OBJECTS}", detail=True)
        objects = []
        for name, info in found.items():
            try:
                digest = Digest(name.rstrip("/").rsplit("/", 1)[-1])
            except ValueError:
                continue  # not an object of ours (a stray file)
            objects.append(StoredObject(digest, int(info.get("size") or 0), _modified(info)))
        return sorted(objects, key=lambda o: o.digest)

    def temporaries(self) -> list[tuple[str, float]]:
        """Temporary keys and when their write began (epoch s, from the key's name)."""
        with self._io("list temporary objects"):
            names = self.fs.find(f"{self.root}/{TEMPORARY}")
        return [(name, _began(name)) for name in names]

    def collect(self, keep: Iterable[Digest], *, grace: float = DEFAULT_GRACE, now: float | None = None) -> Collection:
        """What gc would do: objects not in ``keep`` and older than ``grace``, stale temporaries."""
        now = time.time() if now is None else now
        kept = set(keep)
        result = Collection()
        for obj in self.ls():
            if obj.digest in kept:
                result.referenced.append(obj)
            elif now - obj.modified < grace:
                result.young.append(obj)
            else:
                result.unreferenced.append(obj)
        result.stale_temporaries = [name for name, began in self.temporaries() if now - began >= grace]
        result.stale_uploads = [
            (key, upload) for key, upload, began in self._unfinished_uploads() if now - began >= grace
        ]
        return result

    def _unfinished_uploads(self) -> list[tuple[str, str, float]]:
        """Multipart uploads begun under tmp/ and never completed (S3 only: they hold storage,
        invisible to listings, until aborted)."""
        if self.local or not hasattr(self.fs, "call_s3"):
            return []
        bucket, _, prefix = f"{self.root}/{TEMPORARY}/".partition("/")
        with self._io("list unfinished uploads"):
            answer = self.fs.call_s3("list_multipart_uploads", Bucket=bucket, Prefix=prefix)
        # when the write began: from the key's name, like a temporary file (not the server's clock)
        return [(f"{bucket}/{u['Key']}", u["UploadId"], _began(u["Key"])) for u in answer.get("Uploads") or []]

    def gc(self, keep: Iterable[Digest], *, grace: float = DEFAULT_GRACE, now: float | None = None) -> Collection:
        """Delete what :meth:`collect` finds; returns it."""
        result = self.collect(keep, grace=grace, now=now)
        with self._io("delete unreferenced objects"):
            for obj in result.unreferenced:
                self.fs.rm(self.key(obj.digest))
            for name in result.stale_temporaries:
                self._discard(name)
            for key, upload in result.stale_uploads:
                bucket, _, name = key.partition("/")
                self.fs.call_s3("abort_multipart_upload", Bucket=bucket, Key=name, UploadId=upload)
        return result

    def _io(self, doing: str) -> _StoreIO:
        return _StoreIO(self.url, doing)


class VerifiedReader:
    """A binary reader that hashes every byte; at the end, bytes that do not match raise."""

    def __init__(self, fh: Any, digest: Digest, url: str) -> None:
        self._fh = fh
        self._hash = hashlib.sha256()
        self.digest = digest
        self.url = url

    def read(self, size: int = -1) -> bytes:
        chunk: bytes = self._fh.read(size)
        if chunk:
            self._hash.update(chunk)
        if not chunk or size < 0:
            self._check()
        return chunk

    def _check(self) -> None:
        got = self._hash.hexdigest()
        if got != self.digest.hex:
            raise ArtifactCorrupt(
                f"artifact {self.digest} in {self.url} is corrupt: its bytes hash to sha256:{got}",
                digest=str(self.digest),
                hint="delete the object from the store and apply again to store it anew",
            )

    def __iter__(self) -> Iterator[bytes]:
        return iter(lambda: self.read(CHUNK), b"")

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> VerifiedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _StoreIO:
    """Turns a store's I/O failure (unreachable, refused) into a retried error naming the store."""

    def __init__(self, url: str, doing: str) -> None:
        self.url = url
        self.doing = doing

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc is None or isinstance(exc, (FileNotFoundError, ArtifactError)):
            return
        if isinstance(exc, (OSError, ConnectionError, TimeoutError)) or _is_client_error(exc):
            from .. import redact

            raise TransientError(
                f"artifact store {self.url}: cannot {self.doing}: {redact.redact(str(exc)) or type(exc).__name__}",
                provider="artifacts",
            ) from exc


def _is_client_error(exc: BaseException) -> bool:
    """botocore's errors, recognised by module so that importing skyform never imports botocore."""
    return type(exc).__module__.split(".")[0] in ("botocore", "aiobotocore", "aiohttp")


def _began(key: str) -> float:
    """When the write of a temporary key began (epoch s), from its ``<epoch ms>-<random>`` name."""
    stamp = key.rsplit("/", 1)[-1].split("-", 1)[0]
    return int(stamp) / 1000 if stamp.isdigit() else 0.0


def _protocols(fs: Any) -> tuple[str, ...]:
    protocol = getattr(fs, "protocol", ())
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def _modified(info: dict[str, Any]) -> float:
    """When an object was made visible: ``mtime`` on disk, ``LastModified`` on S3."""
    for key in ("mtime", "LastModified", "last_modified", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
    return 0.0
