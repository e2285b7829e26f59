#!/usr/bin/env python3
"""Fail when a package imports across the boundaries of the architecture.

Rules (docs/architecture in the README):
- ``cryptolake.core`` imports no other CryptoLake package.
- a plugin package (ingest, processing, ml, api) imports only itself and the *public* API of
  ``cryptolake.core`` (no module whose dotted name has a segment starting with ``_``);
- ``cryptolake.web`` imports no other CryptoLake package at all: it talks to the API over HTTP.

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


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1]
    violations = check_tree(root)
    for v in violations:
        print(v, file=sys.stderr)
    if violations:
        print(f"import boundaries: {len(violations)} violation(s)", file=sys.stderr)
        return 1
    print("import boundaries: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
