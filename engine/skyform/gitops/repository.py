"""Reading a git repository without touching it: resolve a ref, export a commit, diff two commits.

gitops never reads the caller's work tree (it may be dirty) and never writes into the
repository: a local repository is only read (``rev-parse``, ``archive``, ``diff`` between
two commits, none of which writes), and a URL is cloned as a bare mirror into a temporary
directory that gitops owns. Git itself does the work, through subprocess, so every
transport and credential helper the user has configured works unchanged.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .. import redact
from ..errors import SkyformError

GIT_TIMEOUT_S = 300


class GitError(SkyformError):
    """git failed: the repository, ref or path cannot be read."""


@dataclass(frozen=True)
class Repository:
    """A repository gitops reads: ``key`` is its identity in state, ``git_dir`` where git runs."""

    source: str
    key: str
    git_dir: Path
    mirrored: bool = False


def _git(git_dir: Path | None, *args: str, binary: bool = False) -> bytes:
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    cmd = ["git", *(["-C", str(git_dir)] if git_dir else []), *args]
    try:
        done = subprocess.run(cmd, capture_output=True, env=env, timeout=GIT_TIMEOUT_S, check=False)
    except FileNotFoundError as exc:
        raise GitError("git is not installed (gitops runs git itself)", hint="install git") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitError(f"`git {args[0]}` took longer than {GIT_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise GitError(f"`git {' '.join(args[:2])}` failed: {detail[-1] if detail else done.returncode}")
    return done.stdout


def _public_url(url: str) -> str:
    """The URL without credentials, used as the repository's identity and in messages."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return url


def _normalised(url: str) -> str:
    """One spelling per repository URL: no credentials, no trailing ``/`` or ``.git``."""
    url = _public_url(url).rstrip("/")
    return url[:-4] if url.endswith(".git") else url


def identify(source: str) -> tuple[str, bool]:
    """(the repository's identity in state, whether it is a local path) for ``source``.

    A URL is its own identity. A local clone is identified by its ``origin`` URL when it
    has one - so a CI checkout, a developer's clone and a runner's mirror of one repository
    share their missions' state - else by its absolute path.
    """
    local = Path(source).expanduser()
    if not local.exists():
        password = urlsplit(source).password
        if password:
            redact.register(password)
        return _normalised(source), False
    try:
        top = _git(local, "rev-parse", "--absolute-git-dir").decode().strip()
    except GitError as exc:
        raise GitError(
            f"{source} is not a git repository", hint="pass the path of a git repository or a URL git can clone"
        ) from exc
    try:
        origin = _git(local, "config", "--get", "remote.origin.url").decode().strip()
    except GitError:
        origin = ""
    if origin:
        return _normalised(origin), True
    # A normal repository is identified by its work tree's root, a bare one by its git dir.
    root = Path(top).parent if Path(top).name == ".git" else Path(top)
    return str(root.resolve()), True


def open_repository(source: str, mirror: Path, key: str | None = None) -> Repository:
    """A local repository (read in place), or a URL mirrored at ``mirror`` (cloned or fetched);
    ``key`` overrides the identity :func:`identify` would give it."""
    found, local = identify(source)
    key = key or found
    if local:
        return Repository(source=source, key=key, git_dir=Path(source).expanduser().resolve())
    repo = Repository(source=source, key=key, git_dir=mirror, mirrored=True)
    if (mirror / "HEAD").exists():
        fetch(repo)
    else:
        mirror.parent.mkdir(parents=True, exist_ok=True)
        _git(None, "clone", "--mirror", "--quiet", source, str(mirror))
    return repo


def fetch(repo: Repository) -> None:
    """Bring a mirrored repository up to date (a local one is always read as it is)."""
    if repo.mirrored:
        _git(repo.git_dir, "remote", "update", "--prune")


def resolve(repo: Repository, ref: str) -> str:
    """The full commit id ``ref`` names (a branch, tag, ``HEAD``, ``HEAD~1`` or an id)."""
    for candidate in (ref, f"origin/{ref}"):
        try:
            return _git(repo.git_dir, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}").decode().strip()
        except GitError:
            continue
    raise GitError(
        f"{ref!r} is not a commit, branch or tag in {repo.key}",
        hint="check the ref (`git -C REPO log --oneline -1 REF`); URLs are fetched on every run",
    )


def export(repo: Repository, commit: str, dest: Path, paths: list[str] | None = None) -> Path:
    """Write the files of ``commit`` (or only ``paths`` of it) under ``dest``: a clean tree."""
    args = ["archive", "--format=tar", commit]
    if paths:
        args += ["--", *paths]
    data = _git(repo.git_dir, *args)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        # The data filter refuses absolute paths, links out of the tree and device files.
        tar.extractall(dest, filter="data")
    return dest


def files_at(repo: Repository, commit: str) -> list[str]:
    """Every file path in ``commit`` (posix, relative to the repository root)."""
    out = _git(repo.git_dir, "ls-tree", "-r", "-z", "--name-only", commit)
    return [p for p in out.decode().split("\0") if p]


def changed_paths(repo: Repository, base: str, commit: str) -> list[str]:
    """Paths that differ between ``base`` and ``commit`` (added, changed, deleted, renamed)."""
    base_id = resolve(repo, base)
    merge_base = _git(repo.git_dir, "merge-base", base_id, commit).decode().strip()
    out = _git(repo.git_dir, "diff", "--name-only", "--no-renames", "-z", merge_base, commit)
    return [p for p in out.decode().split("\0") if p]


def commit_exists(repo: Repository, commit: str) -> bool:
    try:
        _git(repo.git_dir, "cat-file", "-e", f"{commit}^{{commit}}")
        return True
    except GitError:
        return False
