"""The import-boundary check passes on the repository and fails on a sibling import."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check_boundaries.py"


def _run(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, check=False
    )


def _write(root: Path, package: str, module: str, body: str) -> None:
    path = root / "packages" / package / "src" / "cryptolake" / module
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)


def test_the_repository_respects_its_boundaries() -> None:
    out = _run(ROOT)
    assert out.returncode == 0, out.stderr
    assert "import boundaries: ok" in out.stdout


@pytest.mark.parametrize(
    ("package", "module", "body", "reason"),
    [
        ("ingest-plugins", "ingest/x.py", "from cryptolake.processing import spark\n",
         "may not import its sibling cryptolake.processing"),
        ("processing", "processing/x.py", "def f():\n    import cryptolake.ml.ensemble\n",
         "may not import its sibling cryptolake.ml"),
        ("api", "api/x.py", "from cryptolake.core._version import CORE_API_VERSION\n",
         "private module of the core"),
        ("api", "api/y.py", "from cryptolake.core.tables import _contract\n",
         "private module of the core"),
        ("web", "web/x.py", "from cryptolake.core import get_settings\n",
         "the web app may import no other package"),
        ("core", "core/x.py", "import cryptolake.ingest\n", "the core may not depend"),
    ],
)
def test_a_forbidden_import_fails_the_check(
    tmp_path: Path, package: str, module: str, body: str, reason: str
) -> None:
    _write(tmp_path, "ingest-plugins", "ingest/ok.py", "from cryptolake.core import hookimpl\n")
    _write(tmp_path, package, module, body)
    out = _run(tmp_path)
    assert out.returncode == 1
    assert reason in out.stderr
    assert re.search(rf"{re.escape(module)}:[12]: ", out.stderr), out.stderr


def test_public_core_imports_are_allowed(tmp_path: Path) -> None:
    _write(tmp_path, "ml", "ml/x.py",
           "from cryptolake.core import hookimpl\nfrom cryptolake.core.tables import ensure_table\n")
    assert _run(tmp_path).returncode == 0


@pytest.mark.parametrize(
    ("files", "cycle"),
    [
        # a module-level cycle
        ({"core/a.py": "from cryptolake.core import b\n", "core/b.py": "import cryptolake.core.a\n"},
         "cryptolake.core.a -> cryptolake.core.b -> cryptolake.core.a"),
        # through a TYPE_CHECKING block and a deferred import: still a cycle
        ({"core/hookspecs.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                               "    from cryptolake.core.jobs import JobContext\n",
          "core/jobs.py": "def f():\n    from cryptolake.core.manager import Host\n",
          "core/manager.py": "from cryptolake.core.hookspecs import ALL\n"},
         "cryptolake.core.hookspecs -> cryptolake.core.jobs -> cryptolake.core.manager -> "
         "cryptolake.core.hookspecs"),
        # a package's __init__ and its module
        ({"core/tables/__init__.py": "from cryptolake.core.tables.bronze import X\n",
          "core/tables/bronze.py": "from cryptolake.core.tables import register\n"},
         "cryptolake.core.tables -> cryptolake.core.tables.bronze -> cryptolake.core.tables"),
    ],
)
def test_an_import_cycle_fails_the_check(tmp_path: Path, files: dict[str, str], cycle: str) -> None:
    for module, body in files.items():
        _write(tmp_path, "core", module, body)
    out = _run(tmp_path)
    assert out.returncode == 1
    assert f"import cycle: {cycle}" in out.stderr, out.stderr


def test_a_leaf_module_is_no_cycle(tmp_path: Path) -> None:
    """The fix the check asks for: the shared type moves to a leaf both sides import."""
    _write(tmp_path, "core", "core/tables/__init__.py", "from cryptolake.core.tables.bronze import X\n")
    _write(tmp_path, "core", "core/tables/bronze.py", "from cryptolake.core.tables._contract import T\n")
    _write(tmp_path, "core", "core/tables/_contract.py", "T = 1\n")
    # an implicit import of the parent package is not an edge
    assert _run(tmp_path).returncode == 0
