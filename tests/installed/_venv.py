"""Fresh virtual environments for the ``installed`` tests: uv, offline from its cache."""

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

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "packages" / "core"


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
