"""The git commit a mission directory is checked out at, read from ``.git`` without running git.

Recorded with every apply (a ``gitops`` run records the exported commit instead), so that
a product's provenance names the version of the spec it was made from. Reading the files
costs microseconds where a ``git`` process costs milliseconds on every apply; worktrees,
detached heads and packed refs are followed, anything else gives "" (unknown).
"""

from __future__ import annotations

from pathlib import Path


def head_commit(directory: Path) -> str:
    """The commit ``directory``'s repository has checked out, or "" outside a repository."""
    for folder in (directory.resolve(), *directory.resolve().parents):
        dotgit = folder / ".git"
        if dotgit.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = dotgit.read_text(errors="replace").strip()
            if not text.startswith("gitdir:"):
                return ""
            gitdir = (folder / text.split(":", 1)[1].strip()).resolve()
            return _resolve(gitdir, _common(gitdir))
        if dotgit.is_dir():
            return _resolve(dotgit, dotgit)
    return ""


def _common(gitdir: Path) -> Path:
    common = gitdir / "commondir"
    return (gitdir / common.read_text().strip()).resolve() if common.is_file() else gitdir


def _resolve(gitdir: Path, common: Path) -> str:
    try:
        head = (gitdir / "HEAD").read_text(errors="replace").strip()
    except OSError:
        return ""
    if not head.startswith("ref:"):
        return head if len(head) == 40 else ""
    ref = head.split(":", 1)[1].strip()
    for base in (gitdir, common):
        loose = base / ref
        if loose.is_file():
            return loose.read_text(errors="replace").strip()
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(errors="replace").splitlines():
            if line.endswith(" " + ref):
                return line.split(" ", 1)[0]
    return ""
