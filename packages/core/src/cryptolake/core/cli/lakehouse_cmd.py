"""``cryptolake lakehouse summary``: what is in each layer, read through Trino."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console

from cryptolake.core.cli.output import count, key, print_table, report_table
from cryptolake.core.errors import CryptoLakeError
from cryptolake.core.settings import Settings, get_settings

app = typer.Typer(help="Inspect the lakehouse tables.", no_args_is_help=True)

LAYERS = ("bronze", "silver", "gold", "ops", "ml")


def _ident(part: str) -> str:
    return '"' + part.replace('"', '""') + '"'


def layer_summary(settings: Settings, layers: tuple[str, ...] = LAYERS) -> list[dict[str, Any]]:
    """Per table: layer, name, rows, snapshots. Names come from information_schema (parameterised);
    counts use quoted identifiers."""
    from cryptolake.core.clients import query

    placeholders = ", ".join("?" for _ in layers)
    tables = query(
        "SELECT table_schema, table_name FROM information_schema.tables "
        f"WHERE table_schema IN ({placeholders}) AND table_type = 'BASE TABLE' "
        "ORDER BY table_schema, table_name",
        list(layers),
        settings=settings,
    )
    out = []
    for schema, name in tables:
        (rows,) = query(f"SELECT count(*) FROM {_ident(schema)}.{_ident(name)}", settings=settings)[0]
        (snaps,) = query(
            f'SELECT count(*) FROM {_ident(schema)}.{_ident(name + "$snapshots")}', settings=settings
        )[0]
        out.append({"layer": schema, "table": name, "rows": rows, "snapshots": snaps})
    return out


@app.command("summary")
def summary(as_json: bool = typer.Option(False, "--json")) -> None:
    """Row and snapshot counts of every table in bronze, silver, gold, ops and ml."""
    try:
        rows = layer_summary(get_settings())
    except CryptoLakeError as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = report_table(key("layer"), key("table"), count("rows"), count("snapshots"))
    for r in rows:
        table.add_row(r["layer"], r["table"], f"{r['rows']:,}", f"{r['snapshots']:,}")
    print_table(table)
