"""``cryptolake config show``."""

from __future__ import annotations

import json
import os
from typing import Any

import typer
from pydantic import BaseModel, SecretStr
from rich.console import Console
from rich.table import Table

from cryptolake.core.known_env import by_name
from cryptolake.core.settings import Settings, get_settings

app = typer.Typer(help="Show the effective configuration.", no_args_is_help=True)

MASK = "********"


def flatten(model: BaseModel, prefix: str = "CRYPTOLAKE_") -> dict[str, Any]:
    """Map every setting to its environment variable name; secrets masked."""
    out: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}{name.upper()}"
        if isinstance(value, BaseModel):
            out.update(flatten(value, key + "__"))
        elif isinstance(value, SecretStr):
            out[key] = MASK
        else:
            out[key] = value
    return out


def effective(settings: Settings) -> list[dict[str, Any]]:
    known = by_name()
    rows = []
    for key, value in flatten(settings).items():
        rows.append(
            {
                "name": key,
                "value": value if isinstance(value, (str, int, float, bool, list)) else str(value),
                "source": "environment" if key in os.environ else "default",
                "description": known[key].description if key in known else "",
            }
        )
    return rows


@app.command("show")
def show(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every setting, its value (secrets masked) and where it came from."""
    rows = effective(get_settings())
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table("variable", "value", "source", "description")
    for r in rows:
        table.add_row(r["name"], str(r["value"]), r["source"], r["description"])
    Console().print(table)
