"""Tables for people: readable in an 80-column terminal and in CI logs.

Every list command of the CLI (and of plugins' sub-commands) builds its table here, so they
share one look: a header rule instead of a box (less width, clean in logs), short fields kept
whole (``no_wrap``), numbers right-aligned with thousands separators, long lists wrapped at
word boundaries in the last column rather than cut to ``cryptola…``. Whatever does not fit a
column — errors, long paths — goes on lines beneath the table (:func:`notes`).

``--json`` is the machine-readable form of every such command; these tables are for reading.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Column, Table

__all__ = ["Column", "count", "key", "notes", "print_table", "report_table", "wrapped"]


def report_table(*columns: Column, title: str | None = None) -> Table:
    """A table in the CLI's style; give the columns with :func:`key`, :func:`count`, :func:`wrapped`."""
    return Table(*columns, title=title, title_justify="left", box=box.SIMPLE_HEAD,
                 pad_edge=False, padding=(0, 1), show_edge=False)


def key(header: str) -> Column:
    """A short field that is never cut or wrapped (names, states, ids)."""
    return Column(header, no_wrap=True)


def count(header: str) -> Column:
    """A number: right-aligned, never wrapped (format it with ``f"{n:,}"``)."""
    return Column(header, justify="right", no_wrap=True)


def wrapped(header: str) -> Column:
    """A long field (lists, descriptions): takes the remaining width and wraps at spaces."""
    return Column(header, overflow="fold", ratio=1)


def notes(lines: Iterable[str]) -> list[str]:
    """Lines to print under a table (errors, paths), kept whole."""
    out = [line for line in lines if line]
    return ["", *out] if out else []


def print_table(table: Table, extra: Iterable[RenderableType] = (), console: Console | None = None) -> None:
    """Print ``table`` and the lines under it."""
    (console or Console()).print(Group(table, *extra))
