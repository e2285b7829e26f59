"""``pip install cryptolake-core`` is light: the wheel, alone in a fresh venv, runs the CLI.

The core wheel is built from packages/core (pyproject.toml, the metadata a plugin author's pip
reads) and installed with uv into an empty virtual environment — from uv's cache, so it works
offline once ``scripts/bootstrap.sh`` ran. Figures (packages, size, install seconds) are printed.
"""

from __future__ import annotations

import json

import pytest
from _venv import Venv, build_core_wheel, fresh_venv

pytestmark = pytest.mark.installed
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
