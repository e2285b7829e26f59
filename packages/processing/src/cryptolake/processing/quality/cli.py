"""``cryptolake quality run|report``, added through ``cryptolake_register_commands``."""

from __future__ import annotations

import json
from typing import Any

import typer

from cryptolake.core import CommandRegistry

LAYER = typer.Option([], "--layer", "-l", help="Layer to gate (repeatable; default: all).")


def run_command(
    layers: list[str] = LAYER,
    namespace: str | None = typer.Option(None, "--namespace", help="Audit this namespace instead."),
    suites: list[str] = typer.Option([], "--suite", help="Only these suites (repeatable)."),
) -> None:
    """Run the quality suites on the published tables; record every result; exit 1 on failure."""
    from rich.console import Console
    from rich.table import Table

    from cryptolake.core import ConfigError, QualityGateFailed
    from cryptolake.processing.quality.api import quality_run

    console = Console()
    try:
        reports = quality_run(layers or None, namespace=namespace, suites=suites or None)
        failed: QualityGateFailed | None = None
    except QualityGateFailed as exc:
        reports, failed = getattr(exc, "reports", []), exc
    except ConfigError as exc:  # an unknown layer or suite: one line, exit 2
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from exc
    table = Table("layer", "run", "checks", "failed")
    for r in reports:
        table.add_row(r.layer, r.run_id, str(len(r.results)), str(len(r.failed)))
    if reports:
        console.print(table)
    if failed is not None:
        console.print(f"[red]{failed}[/red]")
        raise typer.Exit(1)
    console.print("[green]every gate passed[/green]")


def report_command(
    layer: str | None = typer.Option(None, "--layer", "-l", help="Only this layer."),
    runs: int = typer.Option(1, "--runs", help="How many latest gate runs."),
    run_id: str | None = typer.Option(None, "--run", help="One run id."),
    failed_only: bool = typer.Option(False, "--failed", help="Only failed or errored checks."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The latest quality results from ops.dq_results."""
    from rich.console import Console

    from cryptolake.core.cli.output import count, key, notes, print_table, report_table
    from cryptolake.processing.quality.api import quality_report

    rows = quality_report(layer=layer, runs=runs, run_id=run_id, only_failed=failed_only)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    # 80 columns: one line per check; per gate run a heading with its time; a failed check's
    # message (what was measured against what) beneath, whole. Snapshot ids: --json.
    colour = {"pass": "green", "warn": "yellow", "fail": "red", "error": "red"}
    runs_seen: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        runs_seen.setdefault(r["run_id"], []).append(r)
    console = Console()
    for run, checks in runs_seen.items():
        first = checks[0]
        table = report_table(key("table"), key("check"), key("outcome"), count("value"),
                             title=f"{first['layer']} gate run {run}, checked "
                             f"{str(first['checked_at'])[:19]} UTC")
        problems: list[str] = []
        for r in checks:
            c = colour.get(r["outcome"], "white")
            table.add_row(r["table_name"], r["check_name"], f"[{c}]{r['outcome']}[/{c}]",
                          _fmt(r["value"]))
            if r["outcome"] != "pass" and r.get("message"):
                problems.append(f"[{c}]{r['table_name']}:{r['check_name']}[/{c}] {r['message']}")
        print_table(table, notes(problems), console=console)
    if not rows:
        console.print("no quality results recorded yet (cryptolake quality run)")


def _fmt(value: Any) -> str:
    return "" if value is None else f"{value:g}"


def register(commands: CommandRegistry) -> None:
    group = commands.group("quality", "Run the quality gates and report their results.")
    group.command("run")(run_command)
    group.command("report")(report_command)
