#!/usr/bin/env python3
"""Fail when a package imports across the boundaries of the architecture.

Rules (docs/architecture in the README):
- ``cryptolake.core`` imports no other CryptoLake package.
- a plugin package (ingest, processing, ml, api) imports only itself and the *public* API of
  ``cryptolake.core`` (no module whose dotted name has a segment starting with ``_``);
- ``cryptolake.web`` imports no other CryptoLake package at all: it talks to the API over HTTP.

And no import cycles: the graph of every CryptoLake module to the CryptoLake modules it imports
has no cycle. Imports inside functions and ``TYPE_CHECKING`` blocks count too — a deferred import
hides a cycle from the interpreter, not from the reader; shared types belong in leaf modules. (A
module's implicit import of its parent package is not an edge.)

Every ``import``/``from … import`` in ``packages/*/src`` is checked, including imports inside
functions and ``TYPE_CHECKING`` blocks. Usage: ``check_boundaries.py [ROOT]``; exit 1 on violations.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("core", "ingest", "processing", "ml", "api", "web")


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    importer: str
    imported: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: cryptolake.{self.importer} imports {self.imported}: {self.reason}"


def _imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:  # from cryptolake.core import _private
                yield node.lineno, f"{node.module}.{alias.name}"


def _package_of(path: Path) -> str | None:
    parts = path.parts
    for i, part in enumerate(parts[:-1]):
        if part == "cryptolake" and i > 0 and parts[i - 1] == "src":
            return parts[i + 1] if i + 1 < len(parts) - 1 else None
    return None


def check_file(path: Path) -> list[Violation]:
    importer = _package_of(path)
    if importer is None:
        return []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for line, name in _imports(tree):
        parts = name.split(".")
        if parts[0] != "cryptolake" or len(parts) < 2:
            continue
        target = parts[1]
        if target == importer:
            continue
        if importer == "web":
            reason = "the web app may import no other package; call the API over HTTP"
        elif importer == "core":
            reason = "the core may not depend on a plugin package"
        elif target != "core":
            reason = f"a plugin package may not import its sibling cryptolake.{target}"
        elif any(p.startswith("_") and not p.startswith("__") for p in parts[2:]):
            reason = "private module of the core; use the public API of cryptolake.core"
        else:
            continue
        found.append(Violation(path, line, importer, name, reason))
    return found


def check_tree(root: Path) -> list[Violation]:
    violations: list[Violation] = []
    for path in sorted(root.glob("packages/*/src/cryptolake/**/*.py")):
        violations.extend(check_file(path))
    return violations


def _module_name(path: Path) -> str | None:
    parts = path.parts
    for i in range(len(parts) - 1, 0, -1):
        if parts[i] == "cryptolake" and parts[i - 1] == "src":
            mod = list(parts[i:])
            mod[-1] = mod[-1][: -len(".py")]
            if mod[-1] == "__init__":
                mod.pop()
            return ".".join(mod)
    return None


def import_graph(root: Path) -> tuple[dict[str, set[str]], dict[str, Path]]:
    """Module → the CryptoLake modules it imports (anywhere in the file), and module → path."""
    paths: dict[str, Path] = {}
    for path in sorted(root.glob("packages/*/src/cryptolake/**/*.py")):
        name = _module_name(path)
        if name is not None:
            paths[name] = path
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".")
                    base = base[: len(base) - node.level + (1 if is_package else 0)]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                # ``from pkg import mod`` imports the module pkg.mod when there is one
                subs = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in paths]
                targets = subs if len(subs) == len(node.names) else [module, *subs]
            for target in targets:
                # the deepest known module the dotted name names
                parts = target.split(".")
                while parts and ".".join(parts) not in paths:
                    parts.pop()
                found = ".".join(parts)
                if found and found != name:
                    graph[name].add(found)
    return graph, paths


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a closed path) per strongly connected component of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def connect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            connect(v)
    cycles = []
    for component in components:
        members = set(component)
        start = component[0]
        # shortest path back to start inside the component (BFS)
        prev: dict[str, str] = {}
        frontier = [start]
        seen = {start}
        end: str | None = None
        while frontier and end is None:
            nxt = []
            for v in frontier:
                for w in sorted(graph[v] & members):
                    if w == start:
                        end = v
                        break
                    if w not in seen:
                        seen.add(w)
                        prev[w] = v
                        nxt.append(w)
                if end is not None:
                    break
            frontier = nxt
        path = [start]
        node: str | None = end
        while node is not None and node != start:
            path.insert(1, node)
            node = prev.get(node)
        cycles.append([*path, start])
    return cycles


def check_cycles(root: Path) -> list[str]:
    graph, _ = import_graph(root)
    return [" -> ".join(cycle) for cycle in find_cycles(graph)]


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1]
    violations = check_tree(root)
    for v in violations:
        print(v, file=sys.stderr)
    cycles = check_cycles(root)
    for cycle in cycles:
        print(f"import cycle: {cycle}", file=sys.stderr)
    if violations or cycles:
        print(f"import boundaries: {len(violations)} violation(s), {len(cycles)} cycle(s)",
              file=sys.stderr)
        return 1
    print("import boundaries: ok (no violations, no import cycles)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
