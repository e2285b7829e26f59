"""``cryptolake api serve|keys|export-schema``, added through ``cryptolake_register_commands``."""

from __future__ import annotations

from typing import Any

import typer


def serve(
    host: str | None = typer.Option(None, "--host", help="Bind address (default CRYPTOLAKE_API__HOST)."),
    port: int | None = typer.Option(None, "--port", help="Port (default CRYPTOLAKE_API__PORT)."),
    workers: int | None = typer.Option(None, "--workers", help="Worker processes."),
) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql) with uvicorn."""
    import uvicorn

    from cryptolake.api.settings import get_api_settings

    s = get_api_settings()
    uvicorn.run("cryptolake.api.app:app_factory", factory=True, host=host or s.host,
                port=port or s.port, workers=workers or s.workers, log_level="warning",
                access_log=False, ws="auto", lifespan="on")


def _store() -> Any:
    from sqlalchemy import create_engine

    from cryptolake.api.auth import KeyStore
    from cryptolake.core import get_settings

    return KeyStore(create_engine(get_settings().postgres_dsn))


def keys_create(
    role: str = typer.Option("reader", "--role", help="reader or operator"),
    name: str = typer.Option("", "--name", help="What the key is for."),
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from cryptolake.api.auth import ROLES

    if role not in ROLES:
        typer.secho(f"error: --role must be one of {', '.join(ROLES)}", fg="red", err=True)
        raise typer.Exit(2)
    key, info = _store().create(name or f"{role} key", role)
    typer.echo(key)
    typer.secho(f"key {info.key_id} ({role}) created; it is shown only this once", err=True)


def keys_list() -> None:
    """Every key: id, name, role, created, revoked."""
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "name", "role", "created", "revoked")
    for k in _store().listing():
        table.add_row(k.key_id, k.name, k.role, f"{k.created_at:%Y-%m-%d %H:%M}",
                      f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "")
    Console().print(table)


def keys_revoke(key_id: str = typer.Argument(..., help="The key id (second part of the key).")) -> None:
    """Revoke a key (takes effect within seconds in every API process)."""
    if not _store().revoke(key_id):
        typer.secho(f"no active key {key_id!r}", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo(f"key {key_id} revoked")


def export_schema(
    output: str = typer.Option("packages/api/schema.graphql", "--output", "-o"),
) -> None:
    """Write the SDL of the built-in schema (what packages/api/schema.graphql holds)."""
    from pathlib import Path

    from cryptolake.api.schema import schema

    Path(output).write_text(schema.as_str() + "\n")
    typer.echo(f"wrote {output}")


def register(commands: Any) -> None:
    group = commands.group("api", "The GraphQL data service.")
    group.command("serve")(serve)
    group.command("export-schema")(export_schema)
    keys = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
    keys.command("create")(keys_create)
    keys.command("list")(keys_list)
    keys.command("revoke")(keys_revoke)
    group.add_typer(keys, name="keys")
