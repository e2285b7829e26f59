"""``cryptolake ingest run|replay|live``: run source plugins."""

from __future__ import annotations

from pathlib import Path

import typer

from cryptolake.core.cli._run import execute, parse_sets, parse_time
from cryptolake.core.cli.output import key, notes, print_table, report_table, wrapped
from cryptolake.core.manager import build_plugin_manager

app = typer.Typer(help="Run source plugins into Kafka and Bronze.", no_args_is_help=True)

FROM = typer.Option(None, "--from", help="Window start (date or ISO time, UTC).")
TO = typer.Option(None, "--to", help="Window end, exclusive (date or ISO time, UTC).")
SET = typer.Option([], "--set", help="Source configuration key=value (repeatable).")


@app.command("list")
def list_sources() -> None:
    """The registered sources, their capabilities, topics and Bronze tables."""
    host = build_plugin_manager()
    table = report_table(key("source"), key("plugin"), wrapped("capabilities"))
    flows: list[str] = []
    for e in host.sources:
        table.add_row(e.name, e.plugin, ", ".join(sorted(e.capabilities)) or "-")
        flows.append(f"[bold]{e.name}[/]: topics {', '.join(e.topics) or '-'}; "
                     f"tables {', '.join(e.bronze_tables) or '-'}")
    print_table(table, notes(flows))


@app.command("run")
def run_source(
    source: str = typer.Argument(..., help="Source name, e.g. coingecko.markets"),
    start: str | None = FROM,
    end: str | None = TO,
    sets: list[str] = SET,
) -> None:
    """Run one source for a window; prints records in, written, rejected, gaps found and filled."""
    host = build_plugin_manager()
    entry = host.sources.get(source)
    execute(host, "ingest", entry, start=parse_time(start, "--from"), end=parse_time(end, "--to"),
            config=parse_sets(sets))


@app.command("replay")
def replay(
    speed: float = typer.Option(0.0, "--speed", help="Time compression (3600 = an hour per second); 0 = as fast as possible."),
    data: Path | None = typer.Option(None, "--data", help="Directory of recorded data (default: the bundled sample)."),
    start: str | None = FROM,
    end: str | None = TO,
    sets: list[str] = SET,
) -> None:
    """Replay recorded real data through the same Kafka and Bronze paths as the live sources."""
    host = build_plugin_manager()
    config = {"speed": speed, **({"data_dir": str(data)} if data else {}), **parse_sets(sets)}
    execute(host, "ingest", host.sources.get("replay.recorded"), start=parse_time(start, "--from"),
            end=parse_time(end, "--to"), config=config)


@app.command("live")
def live(sets: list[str] = SET) -> None:
    """Stream Binance trades and 1-minute klines over the websocket (needs the internet)."""
    host = build_plugin_manager()
    execute(host, "ingest", host.sources.get("binance.live"), start=None, end=None,
            config=parse_sets(sets))
