"""``cryptolake plugins new`` writes plugins that work: one of each family is scaffolded,
installed with the light core wheel into a fresh venv (uv, offline from its cache), and its own
tests pass on the first run; the installed CLI lists it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _venv import build_core_wheel, fresh_venv

pytestmark = pytest.mark.installed


@pytest.fixture(scope="module")
def core_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_core_wheel(tmp_path_factory.mktemp("core-wheel"))


@pytest.mark.parametrize("family", ["source", "transform", "quality", "model"])
def test_a_scaffolded_plugin_installs_and_passes_its_own_tests(
    family: str, core_wheel: Path, tmp_path: Path
) -> None:
    name = f"my_{family}"
    made = subprocess.run(
        [sys.executable, "-m", "cryptolake.core.cli", "plugins", "new", name, "--family", family,
         "--dir", str(tmp_path)], capture_output=True, text=True, check=False,
    )
    assert made.returncode == 0, made.stderr
    project = tmp_path / f"cryptolake-{name}"
    assert (project / "pyproject.toml").is_file() and (project / "README.md").is_file()
    venv = fresh_venv(tmp_path / "venv", str(core_wheel), f"{project}[test]")
    packages = venv.packages()
    assert packages["cryptolake-core"] == "0.1.0" and f"cryptolake-{name.replace('_', '-')}" in packages
    assert ("pyiceberg" in packages) == (family != "model")  # a model needs no engine extra

    tests = subprocess.run(
        [str(venv.bin / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project, capture_output=True, text=True, check=False,
    )
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout and "failed" not in tests.stdout

    listed = venv.run("cryptolake", "plugins", "list", "--json")
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows[name]["status"] == "enabled" and rows[name]["families"] == [family]
    if family == "source":
        assert rows[name]["tables"] == [f"bronze.{name}_ticks"]
    if family == "model":  # the lightest install: check the kit itself there
        check_the_kit(venv.bin, project, tmp_path)


def check_the_kit(bin_dir: Path, project: Path, tmp_path: Path) -> None:
    """The kit registers each fixture once, keeps pytest's exit codes and the environment."""
    fixtures = subprocess.run(
        [str(bin_dir / "python"), "-m", "pytest", "--fixtures", "-p", "no:cacheprovider"],
        cwd=project, capture_output=True, text=True, check=False,
    ).stdout
    for fixture in ("cryptolake_settings", "make_plugin_host", "plugin_host",
                    "lakehouse_sandbox", "run_entry"):
        listed = [line for line in fixtures.splitlines() if line.startswith(f"{fixture} ")]
        assert len(listed) == 1, f"{fixture} listed {len(listed)} times:\n{fixtures[-3000:]}"
    # every test deselected: pytest's own exit code 5, untouched by the kit
    none = subprocess.run(
        [str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "e2e"],
        cwd=project, capture_output=True, text=True, check=False,
    )
    assert none.returncode == 5, none.stdout
    # nor the environment: a test of the plugin sees no CRYPTOLAKE_PLUGINS__STRICT it did not set
    (project / "tests" / "test_env.py").write_text(
        "import os\n\ndef test_env():\n    assert 'CRYPTOLAKE_PLUGINS__STRICT' not in os.environ\n"
    )
    env_probe = subprocess.run(
        [str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_env.py"],
        cwd=project, capture_output=True, text=True, check=False,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert env_probe.returncode == 0, env_probe.stdout
