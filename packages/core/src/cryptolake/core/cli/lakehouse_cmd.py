"""``cryptolake lakehouse summary|digest``: what is in each layer, read through Trino."""

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
    def counts(schema: str, name: str, i: int) -> str:
        return (f"SELECT {i} AS i, (SELECT count(*) FROM {_ident(schema)}.{_ident(name)}), "
                f'(SELECT count(*) FROM {_ident(schema)}.{_ident(name + "$snapshots")})')

    found: dict[int, tuple[int, int]] = {}
    if tables:
        try:  # one statement for every table: one round trip, Trino runs the counts side by side
            union = " UNION ALL ".join(counts(sc, n, i) for i, (sc, n) in enumerate(tables))
            found = {int(i): (r, sn) for i, r, sn in query(union, settings=settings)}
        except Exception:  # one unreadable table: the loop below counts table by table,
            pass  # so that the error names it
    out = []
    for i, (schema, name) in enumerate(tables):
        if i not in found:
            (_, rows, snaps), = query(counts(schema, name, i), settings=settings)
            found[i] = (rows, snaps)
        rows, snaps = found[i]
        out.append({"layer": schema, "table": name, "rows": rows, "snapshots": snaps})
    return out


def layer_digest(
    settings: Settings, layers: tuple[str, ...] = ("bronze", "silver", "gold"),
    exclude: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Per table: layer, name, rows and a content hash of its rows.

    The hash is Trino's order-insensitive ``checksum`` over a ROW of every column (in ordinal
    order; ``exclude`` names columns — ``col`` or ``table.col`` — to leave out): two tables hash
    alike exactly when they hold the same multiset of rows, whatever their files, snapshots or
    row order. Compare two runs' digests to prove a rerun changed nothing.
    """
    from cryptolake.core.clients import query

    placeholders = ", ".join("?" for _ in layers)
    columns = query(
        "SELECT c.table_schema, c.table_name, c.column_name FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_schema = c.table_schema "
        "AND t.table_name = c.table_name "
        f"WHERE c.table_schema IN ({placeholders}) AND t.table_type = 'BASE TABLE' "
        "ORDER BY c.table_schema, c.table_name, c.ordinal_position",
        list(layers),
        settings=settings,
    )
    by_table: dict[tuple[str, str], list[str]] = {}
    for schema, name, column in columns:
        if column in exclude or f"{name}.{column}" in exclude or f"{schema}.{name}.{column}" in exclude:
            continue
        by_table.setdefault((schema, name), []).append(column)
    out = []
    for (schema, name), cols in by_table.items():
        row = ", ".join(_ident(c) for c in cols)
        rows, digest = query(
            f"SELECT count(*), to_hex(checksum(ROW({row}))) FROM {_ident(schema)}.{_ident(name)}",
            settings=settings,
        )[0]
        out.append({"layer": schema, "table": name, "rows": rows, "digest": digest or "",
                    "columns": len(cols)})
    return out


@app.command("digest")
def digest(
    layers: list[str] = typer.Option(["bronze", "silver", "gold"], "--layer", help="layer(s) to hash"),
    exclude: list[str] = typer.Option([], "--exclude-column", help="leave out a column (col or table.col)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A content hash of every table (order-insensitive, independent of files and snapshots):
    run it before and after a rerun to prove nothing changed."""
    _show(lambda: layer_digest(get_settings(), tuple(layers), tuple(exclude)), as_json,
          (key("layer"), key("table"), count("rows"), key("digest")),
          lambda r: (r["layer"], r["table"], f"{r['rows']:,}", r["digest"][:16]))


def _show(read: Any, as_json: bool, columns: tuple[Any, ...], cells: Any) -> None:
    """Rows from ``read()`` as JSON or an 80-column table; an expected error is one line, exit 1."""
    try:
        rows = read()
    except CryptoLakeError as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = report_table(*columns)
    for r in rows:
        table.add_row(*cells(r))
    print_table(table)


@app.command("summary")
def summary(as_json: bool = typer.Option(False, "--json")) -> None:
    """Row and snapshot counts of every table in bronze, silver, gold, ops and ml."""
    _show(lambda: layer_summary(get_settings()), as_json,
          (key("layer"), key("table"), count("rows"), count("snapshots")),
          lambda r: (r["layer"], r["table"], f"{r['rows']:,}", f"{r['snapshots']:,}"))
