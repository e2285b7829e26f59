"""Repositories: the SQL of every field, each statement parameterised (``?``).

``{name}`` placeholders stand for tables; the :class:`~cryptolake.api.lakehouse.Reader` renders
them pinned to a snapshot. Nothing from a request is ever formatted into a statement.
"""

from __future__ import annotations

from typing import Any


def keyset(cols: list[str], values: list[Any] | None, desc: bool) -> tuple[str, list[Any]]:
    """``(c1, c2, …) > (v1, v2, …)`` (``<`` when descending) spelled out for Trino."""
    if not values:
        return "", []
    op = "<" if desc else ">"
    parts: list[str] = []
    params: list[Any] = []
    for i, col in enumerate(cols):
        eqs = [f"{c} = ?" for c in cols[:i]]
        parts.append("(" + " AND ".join([*eqs, f"{col} {op} ?"]) + ")")
        params.extend([*values[:i], values[i]])
    return "(" + " OR ".join(parts) + ")", params


def where(conds: list[str]) -> str:
    conds = [c for c in conds if c]
    return ("WHERE " + " AND ".join(conds)) if conds else ""
