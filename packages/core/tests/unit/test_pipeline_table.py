"""The pipeline summary table is readable in an 80-column terminal and in CI logs."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from cryptolake.core.cli.pipeline_cmd import _steps_table

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _row(index: int, step: str, status: str, rows_out: int, error: str | None = None) -> dict:
    return {
        "run_id": "r1", "step": step, "step_index": index, "status": status,
        "started_at": T0, "ended_at": T0 + timedelta(seconds=12.5 * (index + 1)),
        "rows_in": rows_out, "rows_out": rows_out, "rejected": index, "gate": "pass" if "gate" in step else None,
        "error": error,
    }


def _render(rows: list[dict], width: int = 80) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None).print(_steps_table(rows))
    return buf.getvalue()


def test_every_name_and_status_is_whole_within_80_columns() -> None:
    rows = [
        {**_row(0, "*", "succeeded", 0)},
        _row(0, "ingest:replay.recorded", "succeeded", 8986),
        _row(1, "transform:bronze.binance_stream", "succeeded", 12_345_678),
        _row(2, "gate:gate.silver", "failed", 43, error="silver.ohlcv_1h:row_count failed: 0 rows"),
        _row(3, "transform:dbt.gold", "skipped", 0),
    ]
    text = _render(rows)
    assert max(len(line) for line in text.splitlines()) <= 80
    for name in ("replay.recorded", "bronze.binance_stream", "gate.silver"):
        assert name in text
    assert "12,345,678" in text
    assert "FAILED" in text and "skipped" in text
    assert "…" not in text
    # the error is printed whole on its own line, naming the step
    assert "step 3 error: silver.ohlcv_1h:row_count failed: 0 rows" in text
    # the run row ("*") is not a step
    assert text.count(" ok ") == 2


@pytest.mark.installed
def test_pipeline_data_dir_reaches_the_replay_steps(tmp_path: Path) -> None:
    from cryptolake.core.cli.pipeline_cmd import _with_data_dir
    from cryptolake.core.manager import build_plugin_manager
    from cryptolake.core.pipeline import daily_pipeline

    host = build_plugin_manager()
    steps = _with_data_dir(host, daily_pipeline(host, source="replay"), tmp_path, "replay")
    ingest = [s for s in steps if s.kind == "ingest"]
    assert ingest and all(s.config["data_dir"] == str(tmp_path.resolve()) for s in ingest)
    assert all("data_dir" not in s.config for s in steps if s.kind != "ingest")


@pytest.mark.installed
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "/no/such/dir"], "no such directory"),
        (["--source", "live", "--data", "."], "needs --source replay"),
    ],
)
def test_pipeline_data_dir_errors_are_one_line(args: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from cryptolake.core.cli import build_app

    out = CliRunner().invoke(build_app(), ["pipeline", "run", *args])
    assert out.exit_code == 2
    assert message in out.output and "Traceback" not in out.output
