"""``cryptolake transform dbt [build|test|docs] [--select …]``, added to the transform group."""

from __future__ import annotations

import typer

from cryptolake.core import CommandRegistry


def dbt_command_cli(
    command: str = typer.Argument("build", help="build | test | docs (| run | freshness | parse)."),
    select: list[str] = typer.Option([], "--select", "-s", help="dbt selection (repeatable)."),
    exclude: list[str] = typer.Option([], "--exclude", help="dbt exclusion (repeatable)."),
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Rebuild incremental models."),
    publish: bool = typer.Option(True, "--publish/--no-publish",
                                 help="build: publish the marts when the gate passes."),
) -> None:
    """Run the dbt project; `build` writes, audits and publishes Gold (write-audit-publish)."""
    from rich.console import Console

    from cryptolake.core import CryptoLakeError
    from cryptolake.processing.dbt.job import dbt_command

    console = Console()
    try:
        run = dbt_command(command, select=select, exclude=exclude, full_refresh=full_refresh,
                          publish=publish)
    except CryptoLakeError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"dbt {command}: {run.summary()} in {run.duration_s:.1f}s")


def register(commands: CommandRegistry) -> None:
    commands.group("transform").command("dbt")(dbt_command_cli)
