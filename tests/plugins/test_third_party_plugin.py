"""A third-party plugin, installed as a real distribution, is discovered, blockable and called.

The distributions under tests/thirdparty are built and installed into a private target directory
(never into the project's environment); a subprocess with that directory on its path plays the
user's machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.installed

ROOT = Path(__file__).resolve().parents[2]
THIRDPARTY = ROOT / "tests" / "thirdparty"


def _uv() -> str:
    home = Path(os.environ.get("CRYPTOLAKE_HOME") or Path.home() / ".cache" / "cryptolake")
    for candidate in (home / "tools" / "uv" / "bin" / "uv", shutil.which("uv")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    pytest.fail("uv not found: run scripts/bootstrap.sh")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            _uv(), "pip", "install", "--quiet", "--no-deps", "--target", str(target),
            str(THIRDPARTY / "cryptolake-example-plugin"),
            str(THIRDPARTY / "cryptolake-incompatible-plugin"),
        ],
        check=True,
    )
    return target


def _cli(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(site), "CRYPTOLAKE_PLUGINS__STRICT": "false", **env}
    return subprocess.run(
        [sys.executable, "-m", "cryptolake.core.cli", *args],
        capture_output=True, text=True, env=full_env, check=False,
    )


def test_plugins_list_finds_the_third_party_plugin(site: Path) -> None:
    out = _cli(site, "plugins", "list", "--json")
    assert out.returncode == 0, out.stderr
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    example = rows["example"]
    assert example["status"] == "enabled"
    assert example["distribution"] == "cryptolake-example-plugin"
    assert example["version"] == "1.2.0"
    assert sorted(example["families"]) == ["model", "quality", "source", "transform"]
    assert sorted(example["entries"]) == [
        "example.double", "example.last_value", "example.nearest_mean", "example.positive",
        "example.ticks",
    ]


def test_incompatible_plugin_is_reported_clearly(site: Path) -> None:
    rows = {r["name"]: r for r in json.loads(_cli(site, "plugins", "list", "--json").stdout)}
    bad = rows["futuristic"]
    assert bad["status"] == "error"
    assert bad["distribution"] == "cryptolake-incompatible-plugin"
    assert "core API '>=9,<10'" in bad["error"]
    check = _cli(site, "plugins", "check")
    assert check.returncode == 1
    assert "futuristic [cryptolake-incompatible-plugin]" in check.stdout
    assert "ok      example" in check.stdout


def test_blocking_the_plugin(site: Path) -> None:
    out = _cli(site, "plugins", "list", "--json",
               CRYPTOLAKE_PLUGINS__DISABLED='["example", "futuristic"]')
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["example"]["status"] == "blocked"
    assert rows["futuristic"]["status"] == "blocked"
    check = _cli(site, "plugins", "check", CRYPTOLAKE_PLUGINS__DISABLED='["futuristic"]')
    assert check.returncode == 0, check.stdout


def test_strict_mode_turns_the_load_error_into_a_failure(site: Path) -> None:
    out = _cli(site, "plugins", "check", CRYPTOLAKE_PLUGINS__STRICT="true")
    assert out.returncode != 0
    assert "futuristic" in out.stdout + out.stderr


def test_its_hooks_are_called(site: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    script = """
import json
from cryptolake.core import JobContext, build_plugin_manager, run_job, get_settings
host = build_plugin_manager()
out = {}
for registry in (host.sources, host.transforms, host.quality):
    for entry in registry:
        if entry.plugin != "example":
            continue
        job = entry.load()(entry.configure({}))
        ctx = JobContext(kind=entry.family, name=entry.name, settings=get_settings(), host=host,
                         params={"rows": 4, "min_price": 2.5})
        if entry.family == "quality":
            out[entry.name] = [r.outcome for r in job.run(ctx)]
        else:
            out[entry.name] = run_job(ctx, job.run).rows_out
model = host.models.get("example.last_value").load()(offset=1.0).fit([[0], [1]], [10.0, 20.0])
out["example.last_value"] = model.predict([[2]])
print(json.dumps(out))
"""
    env = {**os.environ, "PYTHONPATH": str(site), "EXAMPLE_PLUGIN_EVENTS": str(events),
           "CRYPTOLAKE_PLUGINS__DISABLED": '["futuristic"]'}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "example.ticks": 3,
        "example.double": 8,
        "example.positive": ["pass"],
        "example.last_value": [21.0],
    }
    seen = [json.loads(line) for line in events.read_text().splitlines()]
    assert [(e["event"], e["name"]) for e in seen] == [
        ("before_job", "example.ticks"), ("after_job", "example.ticks"),
        ("before_job", "example.double"), ("after_job", "example.double"),
    ]
