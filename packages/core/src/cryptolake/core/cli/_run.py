"""Running one registry entry from the command line: window, --set, progress, summary."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cryptolake.core.errors import ConfigError, CryptoLakeError
from cryptolake.core.jobs import JobContext, JobResult, run_job
from cryptolake.core.manager import PluginHost
from cryptolake.core.registry import Entry

console = Console(stderr=True, soft_wrap=True)


def parse_time(value: str | None, option: str) -> datetime | None:
    """``2024-01-31`` or an ISO timestamp; naive values are UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not a date or ISO timestamp", param_hint=option
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_sets(values: Sequence[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are JSON when they parse as JSON, else strings."""
    out: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{item!r} must read key=value", param_hint="--set")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def check_keys(entry: Entry, config: dict[str, Any]) -> None:
    """Refuse ``--set`` keys the entry's configuration does not have, naming the known ones."""
    model = entry.config_model
    fields = model.model_fields
    known = set(fields) | {f.alias for f in fields.values() if f.alias}
    if model.model_config.get("extra") == "allow":
        return
    unknown = sorted(k for k in config if k not in known)
    if unknown:
        raise ConfigError(
            f"--set {', '.join(unknown)}: {entry.name} has no such setting; "
            f"known: {', '.join(sorted(fields))}"
        )


def describe_validation(exc: Exception, name: str) -> str:
    """A pydantic ``ValidationError`` in one line: which key, what is wrong, what it got."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return f"invalid configuration for {name}: {exc}"
    parts = []
    for err in errors():
        key = ".".join(str(x) for x in err.get("loc", ())) or "(configuration)"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        got = err.get("input")
        shown = "" if isinstance(got, dict) else f" (got {got!r})"
        parts.append(f"{key}: {msg[0].lower() + msg[1:] if msg else msg}{shown}")
    return f"invalid configuration for {name}: " + "; ".join(parts)


def summary_table(rows: Sequence[tuple[str, JobResult, str]]) -> Table:
    table = Table("step", "rows in", "rows out", "rejected", "seconds", "result")
    for name, r, status in rows:
        table.add_row(
            name, f"{r.rows_in:,}", f"{r.rows_out:,}", f"{r.rejected:,}", f"{r.duration_s:.1f}", status
        )
    return table


def execute(
    host: PluginHost,
    kind: str,
    entry: Entry,
    *,
    start: datetime | None,
    end: datetime | None,
    config: dict[str, Any],
    params: dict[str, Any] | None = None,
) -> JobResult:
    """Build the entry's implementation from ``config`` and run it with a progress display."""
    check_keys(entry, config)
    try:
        job = entry.load()(entry.configure(config))
    except CryptoLakeError as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from exc
    except ValueError as exc:  # pydantic validation of the config
        console.print(f"[red]error:[/] {describe_validation(exc, entry.name)}", highlight=False)
        raise typer.Exit(2) from exc
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[message]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(entry.name, total=None, message="")

        def report(done: int, total: int | None, message: str) -> None:
            progress.update(task, completed=done, total=total, message=message)

        ctx = JobContext(
            kind=kind, name=entry.name, settings=host.settings, host=host, start=start, end=end,
            params=dict(params or {}), progress=report,
        )
        try:
            result = run_job(ctx, job.run)
        except CryptoLakeError as exc:
            progress.stop()
            console.print(f"[red]error:[/] {entry.name} failed (run {ctx.run_id}): {exc}")
            raise typer.Exit(1) from exc
    console.print(summary_table([(entry.name, result, "ok")]))
    for key, value in sorted(result.details.items()):
        console.print(f"  {key}: {value}")
    return result
