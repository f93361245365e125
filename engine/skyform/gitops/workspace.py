"""gitops' own directory for one repository: the checkout it runs from and the default state.

It lives in the user's state directory (platformdirs: ``~/.local/state/skyform/gitops/`` on
Linux), one sub-directory per repository, so gitops never writes into the repository and
two repositories never share a checkout::

    <root>/state.db     default SQLite state of every mission of the repository
    <root>/tree/        the missions at the commit being run (a clean export, not a work tree)
    <root>/mirror.git   a bare mirror, for repositories given as URLs
    <root>/pruned/      missions removed from the repository, exported from their last commit
    <root>/missions/    one mission each, on a worker (``gitops apply --executor celery``)

The checkout is replaced on every run, but each mission's ``.skyform/`` (artifacts the
providers downloaded, the parse cache) is carried over, so that outputs stay where they
were. A file lock keeps two gitops runs of one repository from using the workspace at once.
A worker runs single missions of many runs side by side, so it does not take that lock:
each mission has its own directory under ``missions/`` and its own lock
(:class:`MissionCheckout`), and the mirror has one while it is fetched.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import IO
from urllib.parse import quote

from ..errors import StateError
from .repository import Repository, export


def default_base() -> Path:
    """``<user state dir>/skyform/gitops`` (honours ``XDG_STATE_HOME``)."""
    import platformdirs

    return platformdirs.user_state_path("skyform") / "gitops"


def slug(repository_key: str) -> str:
    """A readable, unique directory name for a repository: ``<name>-<digest>``."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", repository_key.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git"))
    digest = hashlib.sha256(repository_key.encode()).hexdigest()[:12]
    return f"{name.strip('-.') or 'repo'}-{digest}"


class Workspace:
    """One repository's directory under the gitops base directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock_file: IO[str] | None = None

    @classmethod
    def for_repository(cls, repository_key: str, base: Path | None = None) -> Workspace:
        return cls((base or default_base()) / slug(repository_key))

    @property
    def tree(self) -> Path:
        return self.root / "tree"

    @property
    def default_state_url(self) -> str:
        return f"sqlite:///{self.root / 'state.db'}"

    def __enter__(self) -> Workspace:
        self.root.mkdir(parents=True, exist_ok=True)
        handle = (self.root / "workspace.lock").open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StateError(
                f"another gitops run is using {self.root}",
                hint="wait for it to finish (a reconcile runner keeps it for each round)",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock_file = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing drops the flock
            self._lock_file = None

    def checkout(self, repo: Repository, commit: str) -> Path:
        """Replace ``tree/`` by the files of ``commit``, keeping each mission's ``.skyform/``."""
        fresh = self.root / "tree.new"
        shutil.rmtree(fresh, ignore_errors=True)
        export(repo, commit, fresh)
        if self.tree.exists():
            for kept in _state_dirs(self.tree):
                target = fresh / kept.parent.relative_to(self.tree) / ".skyform"
                if kept.is_dir() and target.parent.is_dir() and not target.exists():
                    kept.rename(target)
            old = self.root / "tree.old"
            shutil.rmtree(old, ignore_errors=True)
            self.tree.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        fresh.rename(self.tree)
        return self.tree

    def export_removed(self, repo: Repository, commit: str, path: str) -> Path:
        """The directory of a mission that is gone from the repository, as it was at ``commit``."""
        where = self.root / "pruned" / commit[:12]
        shutil.rmtree(where, ignore_errors=True)
        export(repo, commit, where, [path] if path != "." else None)
        return where / path


class MissionCheckout:
    """One mission's directory on a worker: ``<root>/missions/<quoted path>/``, under its own lock.

    Exported from one commit (only that directory: ``git archive COMMIT -- PATH``) and
    replaced by the next, keeping its ``.skyform/`` like :meth:`Workspace.checkout`.
    """

    LOCK_WAIT_S = 120.0  # a second task of one mission (a redelivery) waits for the first

    def __init__(self, workspace_root: Path, path: str) -> None:
        self.base = workspace_root / "missions"
        # flat, so a mission nested in another's directory has a checkout of its own
        self.key = "_root" if path == "." else quote(path, safe="")
        self.path = path
        self._lock: IO[str] | None = None

    def __enter__(self) -> MissionCheckout:
        lock_path = self.base / f"{self.key}.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _hold(lock_path, self.LOCK_WAIT_S, f"mission {self.path}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def checkout(self, repo: Repository, commit: str) -> Path:
        """Replace the mission's directory by its files at ``commit``; return the directory."""
        target = self.base / self.key
        fresh = self.base / f"{self.key}.new"
        shutil.rmtree(fresh, ignore_errors=True)
        export(repo, commit, fresh, [self.path] if self.path != "." else None)
        exported = fresh / self.path
        kept = target / ".skyform"
        if kept.is_dir() and not (exported / ".skyform").exists():
            kept.rename(exported / ".skyform")
        old = self.base / f"{self.key}.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        exported.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(fresh, ignore_errors=True)
        return target


def hold_mirror(workspace_root: Path) -> IO[str]:
    """The lock of a worker's mirror of a repository, while it is cloned or fetched."""
    workspace_root.mkdir(parents=True, exist_ok=True)
    return _hold(workspace_root / "mirror.lock", MissionCheckout.LOCK_WAIT_S, "the repository mirror")


def _hold(path: Path, wait_s: float, what: str) -> IO[str]:
    import time

    handle = path.open("a+")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() > deadline:
                handle.close()
                raise StateError(f"{what} is still in use here after {wait_s:g} s ({path})") from None
            time.sleep(0.1)


def _state_dirs(tree: Path) -> list[Path]:
    """Every ``.skyform`` directory in a checkout, without walking into them (artifacts are big)."""
    found = []
    for current, dirs, _files in os.walk(tree):
        if ".skyform" in dirs:
            found.append(Path(current) / ".skyform")
        dirs[:] = [d for d in dirs if d != ".skyform"]
    return found
