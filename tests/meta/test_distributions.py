"""Each package's wheel metadata (its Pants BUILD) matches its pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(p.parent for p in ROOT.glob("packages/*/pyproject.toml"))


def _build_namespace(build: Path) -> dict[str, Any]:
    """Every function a BUILD file calls, as a no-op (targets this test does not read)."""
    import ast

    called = {n.func.id for n in ast.walk(ast.parse(build.read_text()))
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return {name: (lambda *a, **kw: None) for name in called}


def _build_distribution(package: Path) -> dict[str, Any]:
    captured: dict[str, Any] = {}
    namespace = _build_namespace(package / "BUILD")
    namespace.update({
        "python_distribution": lambda **kw: captured.update(kw),
        "python_artifact": lambda **kw: kw,
    })
    exec(compile((package / "BUILD").read_text(), str(package / "BUILD"), "exec"), namespace)
    return captured


@pytest.mark.parametrize("package", PACKAGES, ids=[p.name for p in PACKAGES])
def test_build_metadata_matches_pyproject(package: Path) -> None:
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    dist = _build_distribution(package)
    artifact = dist["provides"]
    assert artifact["name"] == project["name"]
    assert artifact["version"] == project["version"]
    assert artifact["python_requires"] == project["requires-python"]
    want = {group: dict(items) for group, items in project.get("entry-points", {}).items()}
    if project.get("scripts"):
        want["console_scripts"] = dict(project["scripts"])
    assert dist.get("entry_points", {}) == want


def test_every_package_is_listed() -> None:
    assert {p.name for p in PACKAGES} == {"core", "ingest-plugins", "processing", "ml", "api", "web"}


def _requirements(project: dict[str, Any]) -> list[str]:
    reqs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        reqs.extend(extra)
    return reqs


@pytest.mark.parametrize("package", PACKAGES, ids=[p.name for p in PACKAGES])
def test_packages_declare_ranges_and_leave_exact_pins_to_the_lock(package: Path) -> None:
    from packaging.requirements import Requirement

    data = tomllib.loads((package / "pyproject.toml").read_text())
    for raw in [*_requirements(data["project"]), *data["build-system"]["requires"]]:
        req = Requirement(raw)
        pinned = [s for s in req.specifier if s.operator in ("==", "===")]
        assert not pinned, f"{package.name}: {raw!r} is an exact pin; declare a range (the lock pins)"
        if req.name.startswith("cryptolake-") and req.name != data["project"]["name"]:
            assert req.specifier, f"{package.name}: {raw!r} needs a compatible range"


def test_the_core_distribution_is_light() -> None:
    """A plugin author's ``pip install cryptolake-core`` gets the contract only; the engines,
    the worker and the stack launcher are extras."""
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "packages" / "core" / "pyproject.toml").read_text())["project"]
    base = {Requirement(r).name.lower() for r in project["dependencies"]}
    assert base == {"pluggy", "pydantic", "pydantic-settings", "typer", "rich", "packaging"}
    extras = project["optional-dependencies"]
    assert {"lakehouse", "supervisor", "worker", "stack", "spark", "testing"} <= set(extras)
    named = {Requirement(r).name.lower() for r in _requirements(project)}
    assert {"celery", "psutil", "pyiceberg", "trino", "boto3", "pyspark", "pytest"} <= named
