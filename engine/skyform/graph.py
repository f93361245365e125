"""The dependency graph of a mission: edges from ``depends_on`` and from references.

An edge ``a → b`` means *b needs a*. Order is deterministic: ties are broken by the order
resources appear in the spec. networkx is imported only when a command needs the graph.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .errors import Diagnostic
from .validate.scope import references


def dependencies(mission: Any) -> dict[str, list[str]]:
    """Resource id → the ids it depends on (declared and referenced), in spec order."""
    refs = references(mission)
    order = {rid: r.index for rid, r in mission.resources.items()}
    out: dict[str, list[str]] = {}
    for rid, resource in mission.resources.items():
        deps = {d for d in resource.depends_on if d in mission.resources} | {
            d for d in refs[rid] if d in mission.resources
        }
        out[rid] = sorted(deps, key=order.__getitem__)
    return out


def build(mission: Any) -> Any:
    """A networkx DiGraph of the mission (nodes carry type and index)."""
    import networkx as nx

    g: nx.DiGraph[str] = nx.DiGraph()
    for rid, resource in mission.resources.items():
        g.add_node(rid, type=resource.type, index=resource.index)
    for rid, deps in dependencies(mission).items():
        for dep in deps:
            g.add_edge(dep, rid)
    return g


def graph_diagnostics(mission: Any) -> list[Diagnostic]:
    """Cycles, each reported with its whole path and every member's location."""
    deps = dependencies(mission)
    cycle = find_cycle(deps, list(mission.resources))
    if not cycle:
        return []
    members = " → ".join(cycle + [cycle[0]])
    where = "; ".join(f"{rid} at {mission.locate('resources', rid)}" for rid in cycle)
    first = cycle[0]
    return [
        Diagnostic(
            f"resources.{first}",
            f"dependency cycle: {members} ({where})",
            mission.locate("resources", first),
            "mission",
            hint="break the cycle: remove a depends_on entry or a reference",
        )
    ]


def find_cycle(deps: dict[str, list[str]], order: list[str]) -> list[str]:
    """One cycle (as a list of ids) in spec order, or [] (iterative DFS: no recursion limit)."""
    state: dict[str, int] = {}
    for start in order:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            node, i = stack.pop()
            if i == 0:
                state[node] = 1
                path.append(node)
            children = deps.get(node, [])
            if i < len(children):
                stack.append((node, i + 1))
                child = children[i]
                if state.get(child) == 1:
                    return path[path.index(child) :]
                if not state.get(child):
                    stack.append((child, 0))
            else:
                state[node] = 2
                path.pop()
    return []


def topological(deps: dict[str, list[str]], order: list[str]) -> list[str]:
    """Kahn's walk with ties broken by spec order (cheaper than networkx on the hot path)."""
    import heapq

    index = {rid: i for i, rid in enumerate(order)}
    dependents: dict[str, list[str]] = {rid: [] for rid in order}
    remaining = dict.fromkeys(order, 0)
    for rid, ds in deps.items():
        for d in ds:
            dependents[d].append(rid)
            remaining[rid] += 1
    ready = [(index[r], r) for r in order if remaining[r] == 0]
    heapq.heapify(ready)
    out: list[str] = []
    while ready:
        _, rid = heapq.heappop(ready)
        out.append(rid)
        for nxt in dependents[rid]:
            remaining[nxt] -= 1
            if remaining[nxt] == 0:
                heapq.heappush(ready, (index[nxt], nxt))
    return out


def export(mission: Any, fmt: str) -> str:
    """The graph as DOT, Mermaid or JSON text."""
    import networkx as nx

    g = build(mission)
    order = list(nx.lexicographical_topological_sort(g, key=lambda n: g.nodes[n]["index"]))
    deps = {r: sorted(g.predecessors(r), key=lambda n: g.nodes[n]["index"]) for r in order}
    if fmt == "json":
        return json.dumps(
            {
                "mission": mission.name,
                "nodes": [{"id": r, "type": mission.resources[r].type} for r in order],
                "edges": [{"from": d, "to": r} for r in order for d in deps[r]],
            },
            indent=2,
        )
    if fmt == "mermaid":
        lines = ["flowchart LR"]
        lines += [f'  {_mid(r)}["{r}<br/>{mission.resources[r].type}"]' for r in order]
        lines += [f"  {_mid(d)} --> {_mid(r)}" for r in order for d in deps[r]]
        return "\n".join(lines)
    lines = [f'digraph "{mission.name}" {{', "  rankdir=LR;", "  node [shape=box];"]
    lines += [f'  "{r}" [label="{r}\\n{mission.resources[r].type}"];' for r in order]
    lines += [f'  "{d}" -> "{r}";' for r in order for d in deps[r]]
    lines.append("}")
    return "\n".join(lines)


def _mid(rid: str) -> str:
    return "n_" + "".join(c if c.isalnum() else "_" for c in rid)


def reverse(deps: dict[str, list[str]]) -> dict[str, list[str]]:
    """id → ids that depend on it."""
    out: dict[str, list[str]] = {rid: [] for rid in deps}
    for rid, ds in deps.items():
        for d in ds:
            out.setdefault(d, []).append(rid)
    return out


def closure(deps: dict[str, list[str]], targets: Iterable[str]) -> set[str]:
    """``targets`` and everything they depend on, transitively."""
    seen: set[str] = set()
    stack = list(targets)
    while stack:
        rid = stack.pop()
        if rid in seen:
            continue
        seen.add(rid)
        stack.extend(deps.get(rid, []))
    return seen
