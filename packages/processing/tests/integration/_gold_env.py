"""Private namespaces for the Gold and quality integration tests, dropped afterwards via Trino."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptolake.core import Settings


@dataclass(frozen=True)
class GoldNamespaces:
    silver: str
    audit: str
    published: str
    ops: str
    full: str  # a second dbt target: the full-refresh reference build

    def all(self) -> tuple[str, ...]:
        return (self.silver, self.audit, self.published, self.ops, self.full)


def sql(settings: Settings, statement: str) -> list[tuple[Any, ...]]:
    from cryptolake.core.clients import connect

    conn = connect(settings)
    try:
        cur = conn.cursor()
        cur.execute(statement)
        return [tuple(r) for r in cur.fetchall()]
    finally:
        conn.close()


def drop_schema(settings: Settings, schema: str) -> None:
    """Drop every view and table (with its files) in ``schema`` through Trino, then the schema."""
    if not sql(settings, f"SELECT 1 FROM information_schema.schemata WHERE schema_name = '{schema}'"):
        return
    for (name, kind) in sql(
        settings,
        f"SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = '{schema}'",
    ):
        what = "VIEW" if kind == "VIEW" else "TABLE"
        sql(settings, f'DROP {what} IF EXISTS "{schema}"."{name}"')
    sql(settings, f'DROP SCHEMA IF EXISTS "{schema}"')


@contextmanager
def gold_namespaces(settings: Settings) -> Iterator[GoldNamespaces]:
    tag = uuid.uuid4().hex[:8]
    ns = GoldNamespaces(
        silver=f"test_{tag}_silver", audit=f"test_{tag}_audit", published=f"test_{tag}_gold",
        ops=f"test_{tag}_ops", full=f"test_{tag}_full",
    )
    sql(settings, f'CREATE SCHEMA IF NOT EXISTS "{ns.silver}"')
    try:
        yield ns
    finally:
        for schema in ns.all():
            try:
                drop_schema(settings, schema)
            except Exception as exc:  # - cleanup must go on
                print(f"could not drop {schema}: {exc}")
            for kind in ("target", "profiles"):  # the dbt runner's per-schema state
                shutil.rmtree(Path(settings.home) / "dbt" / kind / schema, ignore_errors=True)
