"""The engine's modules import one another without circles.

The import graph is read statically (every ``import`` and ``from ... import``, including
the ones inside functions, which only hide a circle until the function runs), so a circle
fails here even where Python would happen to tolerate it at run time. Imports under
``if TYPE_CHECKING:`` are left out: they never run, they only name types.
"""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"


def modules(root: Path) -> dict[str, tuple[Path, bool]]:
    """Dotted module name → (file, is a package) for every ``.py`` file under ``root``."""
    out: dict[str, tuple[Path, bool]] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


def executed(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:`` (never run)."""
    out: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)
    return out


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the modules under ``root`` it imports (anywhere in its body)."""
    known = modules(root)
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, (path, is_package) in known.items():
        package = name.split(".") if is_package else name.split(".")[:-1]
        for node in executed(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    kept = package[: len(package) - node.level + 1]
                    base = ".".join(kept + ([node.module] if node.module else []))
                submodules = [f"{base}.{alias.name}" for alias in node.names]
                targets = [s for s in submodules if s in known]
                if len(targets) < len(submodules):  # some names are attributes of `base` itself
                    targets.append(base)
            graph[name].update(t for t in targets if t in known and t != name)
    return graph


def find_circle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle as a list of modules (first == last), or [] (iterative DFS)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path: list[str] = []
        stack: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        state[start] = 1
        path.append(start)
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            child = todo.pop(0)
            if state.get(child) == 1:
                return path[path.index(child) :] + [child]
            if not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, sorted(graph[child])))
    return []


def test_engine_has_no_import_circle() -> None:
    """No module of skyform imports, directly or through others, a module that imports it."""
    circle = find_circle(import_graph(ENGINE))
    assert not circle, "import circle: " + " → ".join(circle)


def test_a_circle_is_found_even_through_a_function_level_import(tmp_path: Path) -> None:
    """The check itself: a circle closed by an import inside a function is reported."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from .sub.b import thing\n")
    (package / "sub" / "b.py").write_text("def thing():\n    from ..a import other\n")
    (package / "c.py").write_text("from . import a\n")
    assert find_circle(import_graph(tmp_path)) == ["pkg.a", "pkg.sub.b", "pkg.a"]
    (package / "sub" / "b.py").write_text("def thing():\n    from .. import c\n")
    assert find_circle(import_graph(tmp_path)) == ["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]
    (package / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..a import x\n"
    )
    assert find_circle(import_graph(tmp_path)) == []  # a type-only import never runs


def test_the_values_plugins_were_told_to_import_keep_their_old_module() -> None:
    """docs/plugins.md pointed plugins at skyform.values; the moved names still come from there."""
    import skyform.spec.values as values
    from skyform.values import Secret, Unknown, is_known

    assert (Secret, Unknown, is_known) == (values.Secret, values.Unknown, values.is_known)
