"""``cryptolake transform list|run``: run transform plugins (Spark, dbt, …)."""

from __future__ import annotations

import json
from typing import Any

import typer

from cryptolake.core.cli._run import execute, parse_sets, parse_time
from cryptolake.core.cli.output import key, notes, print_table, report_table, wrapped
from cryptolake.core.manager import build_plugin_manager

app = typer.Typer(help="List and run transforms, built-in or third-party.", no_args_is_help=True)


@app.command("list")
def list_transforms(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every transform: engine, layer, inputs, outputs, schedule hint, plugin."""
    host = build_plugin_manager()
    rows: list[dict[str, Any]] = [
        {"name": e.name, "engine": e.engine, "layer": e.layer, "inputs": list(e.inputs),
         "outputs": list(e.outputs), "schedule": e.schedule, "plugin": e.plugin}
        for e in host.transforms
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    # one row per transform; inputs and outputs (lists of long table names) beneath the table
    table = report_table(key("transform"), key("engine"), key("layer"), wrapped("schedule"))
    flows: list[str] = []
    for r in rows:
        table.add_row(r["name"], r["engine"], r["layer"], r["schedule"] or "-")
        flows.append(f"[bold]{r['name']}[/] [dim]({r['plugin']})[/]: {', '.join(r['inputs']) or '-'} "
                     f"→ {', '.join(r['outputs']) or '-'}")
    print_table(table, notes(flows))


@app.command("run")
def run_transform(
    name: str = typer.Argument(..., help="Transform name (see `cryptolake transform list`)."),
    start: str | None = typer.Option(None, "--from", help="Window start (UTC)."),
    end: str | None = typer.Option(None, "--to", help="Window end, exclusive (UTC)."),
    sets: list[str] = typer.Option([], "--set", help="Configuration key=value (repeatable)."),
) -> None:
    """Run one transform over an optional window."""
    host = build_plugin_manager()
    execute(host, "transform", host.transforms.get(name), start=parse_time(start, "--from"),
            end=parse_time(end, "--to"), config=parse_sets(sets))
