"""``cryptolake stream start|stop|status`` and ``cryptolake maintenance run``.

Added to the ``cryptolake`` command line through ``cryptolake_register_commands``.
"""

from __future__ import annotations

import json
from typing import Any

import typer

from cryptolake.core import CommandRegistry


def _print_status(status: Any, as_json: bool) -> None:
    data = status.as_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    state = "running" if status.running else "stopped"
    pid = f" (pid {status.pid})" if status.pid else ""
    typer.echo(f"stream {status.name}: {state}{pid}, state={status.state}")
    for key in ("batches", "rows", "last_batch_at", "error"):
        if data["details"].get(key) is not None:
            typer.echo(f"  {key}: {data['details'][key]}")
    if status.log:
        typer.echo(f"  log: {status.log}")


def start(
    wait: float = typer.Option(120.0, "--wait", help="Seconds to wait until its query runs (0: don't)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Start the supervised Kafka → Bronze stream job (a no-op when it runs)."""
    from cryptolake.processing.spark import start_stream

    status = start_stream(wait_running=wait)
    _print_status(status, as_json)
    if not status.running:
        raise typer.Exit(1)


def stop(
    name: str = typer.Option("bronze", "--name"),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds before the stop is forced."),
) -> None:
    """Stop the stream job gracefully (after its current batch), then forcibly."""
    from cryptolake.processing.spark import stop_stream

    _print_status(stop_stream(name, timeout=timeout), False)


def status(
    name: str = typer.Option("bronze", "--name"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Whether the stream job runs, its last batch and its log."""
    from cryptolake.processing.spark import stream_status

    _print_status(stream_status(name), as_json)


def maintenance_run(
    tables: list[str] = typer.Option([], "--table", "-t", help="namespace.table (repeatable; default: all)."),
) -> None:
    """Compact small files, expire old snapshots, remove orphan files; report before → after."""
    from cryptolake.processing.maintenance import run_maintenance

    report = run_maintenance(tables=tables or None)
    typer.echo(report.render())
    if report.failed:  # a table that failed is not a success
        typer.echo(f"maintenance failed for {len(report.failed)} table(s): "
                   + ", ".join(t.table for t in report.failed), err=True)
        raise typer.Exit(1)


def register(commands: CommandRegistry) -> None:
    stream = commands.group("stream", help="The supervised Spark stream job (Kafka → Bronze).")
    stream.command("start")(start)
    stream.command("stop")(stop)
    stream.command("status")(status)
    maintenance = commands.group("maintenance", help="Iceberg table maintenance.")
    maintenance.command("run")(maintenance_run)
