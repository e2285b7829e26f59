"""The CLI's list commands stay readable in 80 columns: nothing cut to "…", lines ≤ 80."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from typer.testing import CliRunner

from cryptolake.core.cli.output import count, key, notes, print_table, report_table, wrapped


def _render(width: int = 80) -> str:
    table = report_table(key("transform"), key("engine"), count("rows"), wrapped("schedule"))
    table.add_row("bronze.binance_stream", "spark", f"{12_345_678:,}", "continuous")
    table.add_row("gate.silver", "trino", "0", "after the Silver transforms have all succeeded")
    buf = io.StringIO()
    long_list = ", ".join(f"silver.table_number_{i}" for i in range(12))
    print_table(table, notes(["", f"gate.silver: {long_list}"]),
                console=Console(file=buf, width=width, color_system=None))
    return buf.getvalue()


def test_tables_fit_and_keep_names_whole() -> None:
    text = _render()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "bronze.binance_stream" in text and "12,345,678" in text
    assert "…" not in text
    # the long list beneath the table wraps at word boundaries: every item is whole
    flat = " ".join(text.split())
    assert all(f"silver.table_number_{i}" in flat for i in range(12))


@pytest.mark.installed
@pytest.mark.parametrize("command", [["plugins", "list"], ["ingest", "list"], ["transform", "list"]])
def test_list_commands_fit_80_columns(command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptolake.core.cli import build_app

    monkeypatch.setenv("COLUMNS", "80")
    out = CliRunner().invoke(build_app(), command)
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert len(lines) > 3
    assert max(len(line) for line in lines) <= 80
    assert "…" not in out.output
