"""Bad input at the command line: one clear line, no traceback, a non-zero exit.

Run as a user would, through the installed ``cryptolake`` entry point and its plugins.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cryptolake.core.cli import main

pytestmark = pytest.mark.installed

CASES = [
    (["ingest", "run", "nosuch.source"], "no source named 'nosuch.source'", "known: binance."),
    (["transform", "run", "nosuch"], "no transform named 'nosuch'", "known: "),
    (["ingest", "run", "feargreed.index", "--set", "bogus=1"], "--set bogus", "known: backoff_base_s"),
    (
        ["ingest", "run", "replay.recorded", "--set", "speed=-5"],
        "invalid configuration for replay.recorded: speed: input should be greater than or equal to 0",
        "(got -5)",
    ),
    (["ingest", "run", "binance.klines", "--set", "symbols=[]"], "symbols: at least one symbol", ""),
    (["maintenance", "run", "--table", "nosuch"], "must read 'namespace.table'", "nosuch"),
]


def _errors(text: str) -> list[str]:
    """The lines a person reads (log records are JSON lines and are not the error)."""
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("{")]


@pytest.mark.parametrize(("argv", "says", "also"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_input_ends_in_one_line_and_a_non_zero_exit(
    argv: list[str], says: str, also: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out = capsys.readouterr()
    assert exit_info.value.code not in (0, None)
    text = out.err + out.out
    assert "Traceback" not in text
    lines = _errors(out.err)
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and says in lines[0] and also in lines[0]


def test_debug_shows_the_traceback() -> None:
    from cryptolake.core.errors import PluginError

    with pytest.raises(PluginError):
        main(["ingest", "run", "nosuch.source", "--debug"])


def test_the_console_script_itself(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("cryptolake")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "cryptolake.core.cli"]
    proc = subprocess.run(
        [*cmd, "transform", "run", "nosuch"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CRYPTOLAKE_LOG__FORMAT": "json"},
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert _errors(proc.stderr) == [_errors(proc.stderr)[0]]
    assert _errors(proc.stderr)[0].startswith("error: no transform named 'nosuch'")


@pytest.mark.integration
def test_maintenance_of_a_table_that_does_not_exist(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["maintenance", "run", "--table", "bronze.nosuch"])
    out = capsys.readouterr()
    assert exit_info.value.code == 2 and "Traceback" not in out.err
    lines = _errors(out.err)
    assert lines == ["error: maintenance: no table bronze.nosuch in catalog lakehouse"]
