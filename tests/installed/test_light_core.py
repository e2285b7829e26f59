"""``pip install cryptolake-core`` is light: the wheel, alone in a fresh venv, runs the CLI.

The core wheel is built from packages/core (pyproject.toml, the metadata a plugin author's pip
reads) and installed with uv into an empty virtual environment — from uv's cache, so it works
offline once ``scripts/bootstrap.sh`` ran. Figures (packages, size, install seconds) are printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.installed

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "packages" / "core"
#: What the contract needs: pluggy, pydantic, pydantic-settings, the CLI (typer, rich) and
#: packaging, with their own dependencies.
ALLOWED = {
    "cryptolake-core", "pluggy", "pydantic", "pydantic-core", "pydantic-settings", "typer",
    "rich", "packaging", "annotated-types", "typing-extensions", "typing-inspection",
    "python-dotenv", "click", "shellingham", "markdown-it-py", "mdurl", "pygments",
    "annotated-doc",
}
HEAVY = {
    "celery", "kombu", "redis", "trino", "pyiceberg", "pyarrow", "confluent-kafka", "boto3",
    "botocore", "sqlalchemy", "psycopg2-binary", "psutil", "httpx", "pyspark", "pandas", "numpy",
}


def uv() -> str:
    home = Path(os.environ.get("CRYPTOLAKE_HOME") or Path.home() / ".cache" / "cryptolake")
    for candidate in (home / "tools" / "uv" / "bin" / "uv", shutil.which("uv")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    pytest.fail("uv not found: run scripts/bootstrap.sh")


def uv_run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``uv ARGS`` from the cache (offline); online only when the cache lacks something."""
    env = {**os.environ, "PIP_CONFIG_FILE": "/dev/null"}
    out = subprocess.run([uv(), *args, "--offline"], capture_output=True, text=True, cwd=cwd,
                         env=env, check=False)
    if out.returncode != 0:
        out = subprocess.run([uv(), *args], capture_output=True, text=True, cwd=cwd, env=env,
                             check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def build_core_wheel(dest: Path) -> Path:
    """The core wheel, built from a copy of packages/core (the tree is shared: no build/ left)."""
    src = dest / "src-copy"
    shutil.copytree(CORE, src, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__", "tests"))
    uv_run("build", "--wheel", "-q", "-o", str(dest), str(src))
    (wheel,) = dest.glob("cryptolake_core-*.whl")
    return wheel


@dataclass
class Venv:
    path: Path
    install_s: float

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    def packages(self) -> dict[str, str]:
        out = uv_run("pip", "list", "--format", "json", "--python", str(self.bin / "python"))
        return {p["name"].lower(): p["version"] for p in json.loads(out.stdout)}

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]], capture_output=True, text=True, check=False,
            env={"PATH": f"{self.bin}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"),
                 "CRYPTOLAKE_HOME": str(self.path / "home"), **env},
        )


def fresh_venv(path: Path, *requirements: str) -> Venv:
    uv_run("venv", "-q", "--python", sys.executable, str(path))
    started = time.perf_counter()
    uv_run("pip", "install", "-q", "--python", str(path / "bin" / "python"), *requirements)
    return Venv(path, time.perf_counter() - started)


@pytest.fixture(scope="module")
def light(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    base = tmp_path_factory.mktemp("light-core")
    venv = fresh_venv(base / "venv", str(build_core_wheel(base)))
    size_mb = sum(f.stat().st_size for f in venv.path.rglob("*") if f.is_file()) / 2**20
    print(f"\nlight core: {len(venv.packages())} packages, {size_mb:.0f} MB, "
          f"installed in {venv.install_s:.2f}s (from uv's cache)")
    return venv


def test_the_core_wheel_pulls_only_the_contract(light: Venv) -> None:
    installed = set(light.packages())
    assert not installed & HEAVY, f"heavy packages in a plain core install: {installed & HEAVY}"
    assert installed <= ALLOWED, f"unexpected packages: {sorted(installed - ALLOWED)}"
    assert {"cryptolake-core", "pluggy", "pydantic", "pydantic-settings", "typer"} <= installed


def test_plugins_list_runs_in_the_light_core(light: Venv) -> None:
    out = light.run("cryptolake", "plugins", "list", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []  # nothing else installed: no plugins
    assert light.run("cryptolake", "--version").stdout.startswith("cryptolake 0.1.0")
    check = light.run("cryptolake", "plugins", "check")
    assert check.returncode == 0 and "0 plugin(s) checked, no errors" in check.stdout


def test_a_command_of_a_missing_extra_names_the_extra(light: Venv) -> None:
    out = light.run("cryptolake", "stack", "status")
    assert out.returncode == 2
    assert "pip install 'cryptolake-core[stack]'" in out.stderr


def test_the_public_api_imports_without_the_extras(light: Venv) -> None:
    code = (
        "import sys, cryptolake.core as c\n"
        "from cryptolake.core.tables import all_contracts\n"
        "assert len(all_contracts()) > 10\n"
        "heavy = {m.split('.')[0] for m in sys.modules} & {'pyiceberg', 'pyarrow', 'celery'}\n"
        "assert not heavy, heavy\n"
        "print(len(c.__all__))\n"
    )
    out = light.run("python", "-c", code)
    assert out.returncode == 0, out.stderr
