"""``cryptolake plugins list|check|new|remove``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cryptolake.core.cli.output import count, key, notes, print_table, report_table
from cryptolake.core.errors import PluginError
from cryptolake.core.manager import build_plugin_manager

app = typer.Typer(help="Inspect and validate installed plugins.", no_args_is_help=True)


@app.command("list")
def list_plugins(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Name, family, distribution, version, status and load error of every plugin."""
    host = build_plugin_manager(strict=False)
    rows = [p.as_dict() for p in host.listing()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    # one row per plugin; its entries (often many, with long names) listed beneath the table
    table = report_table(key("plugin"), key("version"), key("status"), key("families"),
                         count("entries"))
    errors: list[str] = []
    entries: list[str] = []
    for r in rows:
        status = {"enabled": "[green]enabled[/]", "blocked": "[yellow]blocked[/]"}.get(
            r["status"], "[red]error[/]"
        )
        table.add_row(
            r["name"], r["version"] or "-", status, ",".join(r["families"]) or "-",
            str(len(r["entries"])),
        )
        if r["error"]:
            errors.append(f"[red]{r['name']}:[/] {r['error']}")
        if r["entries"]:
            dist = f" [dim]({r['distribution']})[/]" if r["distribution"] else ""
            entries.append(f"[bold]{r['name']}[/]{dist}: {', '.join(r['entries'])}")
    print_table(table, notes([*errors, "", *entries]))


@app.command("check")
def check_plugins() -> None:
    """Load and validate every installed plugin; exit 1 on any error."""
    try:
        host = build_plugin_manager(strict=False)
        host.load_registries()
    except PluginError as exc:  # pragma: no cover - strict is off, kept for safety
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    errors = host.errors()
    for p in host.listing():
        mark = {"enabled": "ok     ", "blocked": "blocked", "error": "ERROR  "}[p.status]
        detail = f": {p.error}" if p.error else ""
        dist = f" [{p.distribution}]" if p.distribution else ""
        typer.echo(f"{mark} {p.name}{dist}{detail}")
    if errors:
        typer.secho(f"{len(errors)} plugin(s) failed to load", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"{len(host.plugins)} plugin(s) checked, no errors")


@app.command("new")
def new_plugin(
    name: str = typer.Argument(..., help="The plugin's name, e.g. kraken (entries: kraken.*)."),
    family: str = typer.Option(..., "--family", "-f", help="source | transform | quality | model"),
    directory: Path = typer.Option(Path("."), "--dir", help="Where to write cryptolake-NAME/."),
) -> None:
    """Write a working, installable plugin distribution whose own tests pass on the first run."""
    from cryptolake.core.cli._scaffold import scaffold

    try:
        root = scaffold(name, family, directory)
    except (ValueError, FileExistsError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        typer.echo(f"  {path.relative_to(directory)}")
    typer.echo(f"\nnext: cd {root} && pip install -e '.[test]' && pytest")


@app.command("remove")
def remove_plugin(
    name: str = typer.Argument(..., help="An installed plugin's name."),
    yes: bool = typer.Option(False, "--yes", help="Drop for real (default: show the plan)."),
) -> None:
    """Drop the tables a plugin declared and its quality-gate history; then uninstall it."""
    from cryptolake.core.cli._remove import execute_removal, plan_removal

    host = build_plugin_manager(strict=False)
    try:
        plan = plan_removal(host, name)
    except PluginError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"plugin {plan.plugin} ({plan.distribution or 'not a distribution'}):")
    typer.echo(f"  tables: {', '.join(plan.tables) or 'none'}")
    typer.echo(f"  gate history of suites: {', '.join(plan.suites) or 'none'}")
    if not yes:
        typer.echo("dry run: add --yes to drop them")
        return
    from cryptolake.core.clients import load_catalog

    done = execute_removal(plan, load_catalog(host.settings))
    typer.echo(f"dropped {len(done['dropped'])} table(s), deleted {done['gate_rows_deleted']} "
               f"gate result(s)")
    if plan.distribution:
        typer.echo(f"now: pip uninstall {plan.distribution}")
