"""Pants runs the unit tiers; the pytest step of scripts/test.sh runs the others. A test file
whose every test needs the stack or installed distributions must be ``skip_tests`` in its Pants
target — otherwise Pants, deselecting all of it by marker, gets pytest's exit 5 ("no tests")."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTER = {"integration", "e2e", "installed", "chaos", "cluster"}
BUILDS = sorted([*ROOT.glob("packages/*/tests/BUILD"), ROOT / "tests" / "BUILD"])


def _python_tests(build: Path) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = []
    called = {n.func.id for n in ast.walk(ast.parse(build.read_text()))
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    namespace: dict[str, Any] = {name: (lambda *a, **kw: None) for name in called}
    namespace["python_tests"] = lambda **kw: targets.append(kw)
    exec(compile(build.read_text(), str(build), "exec"), namespace)
    return targets


def _skipped(build: Path) -> set[Path]:
    skipped: set[Path] = set()
    for target in _python_tests(build):
        for key, fields in (target.get("overrides") or {}).items():
            if fields.get("skip_tests"):
                for pattern in key if isinstance(key, tuple) else (key,):
                    skipped |= {p.resolve() for p in build.parent.glob(pattern)}
    return skipped


def _module_markers(path: Path) -> set[str]:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            return {n.attr for n in ast.walk(node.value) if isinstance(n, ast.Attribute)} & OUTER
    return set()


@pytest.mark.parametrize("build", BUILDS, ids=[str(b.parent.relative_to(ROOT)) for b in BUILDS])
def test_outer_tier_files_are_skipped_by_pants(build: Path) -> None:
    skipped = _skipped(build)
    for path in build.parent.rglob("test_*.py"):
        if "thirdparty" in path.parts:
            continue
        if _module_markers(path):
            assert path.resolve() in skipped, (
                f"{path.relative_to(ROOT)} is all {_module_markers(path)}: add it to a "
                f"skip_tests override in {build.relative_to(ROOT)}"
            )


def test_the_kit_does_not_change_exit_codes_or_the_environment() -> None:
    source = (ROOT / "packages/core/src/cryptolake/core/testing/pytest_plugin.py").read_text()
    tree = ast.parse(source)
    names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert "pytest_sessionfinish" not in names
    assert "os.environ" not in source and "exitstatus" not in source
