"""Each package's wheel metadata (its Pants BUILD) matches its pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(p.parent for p in ROOT.glob("packages/*/pyproject.toml"))


def _build_distribution(package: Path) -> dict[str, Any]:
    captured: dict[str, Any] = {}
    namespace = {
        "python_distribution": lambda **kw: captured.update(kw),
        "python_artifact": lambda **kw: kw,
    }
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
