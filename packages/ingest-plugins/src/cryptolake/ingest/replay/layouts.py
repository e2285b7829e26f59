"""Finding the layout of a recorded file and the reader that parses it.

The layout is named by the plugins through the ``cryptolake_detect_layout`` firstresult hook.
Built-in names map to the parsers of the Binance, CoinGecko and Fear & Greed plugins; a third
party may return ``"package.module:reader"`` — a callable ``reader(path, data) -> Iterable[Record
| Reject]`` — to teach replay a layout of its own. Replay reads two files at a time, from two
threads, so a reader (and the detect hook) may run for two files at once.
"""

from __future__ import annotations

import gzip
import importlib
import inspect
from collections.abc import Callable, Iterable
from pathlib import Path

from cryptolake.core import PluginError, PluginHost
from cryptolake.ingest._records import Record, Reject
from cryptolake.ingest.binance import parse as binance
from cryptolake.ingest.coingecko import parse as coingecko
from cryptolake.ingest.feargreed import parse as feargreed

Reader = Callable[..., Iterable[Record | Reject]]
HEAD_BYTES = 4096

BUILTIN_READERS: dict[str, Reader] = {**binance.READERS, **coingecko.READERS, **feargreed.READERS}


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data


def detect(host: PluginHost, path: Path, data: bytes) -> str | None:
    return host.detect_layout(path=path, head=data[:HEAD_BYTES])


def run_reader(
    reader: Reader, path: Path, data: bytes, window: tuple[int | None, int | None] | None
) -> Iterable[Record | Reject]:
    """Call ``reader``, passing the event-time window when it accepts one (it may skip early)."""
    try:
        takes_window = "window" in inspect.signature(reader).parameters
    except (TypeError, ValueError):
        takes_window = False
    return reader(path, data, window=window) if takes_window else reader(path, data)


def reader_for(layout: str) -> Reader:
    if layout in BUILTIN_READERS:
        return BUILTIN_READERS[layout]
    if ":" in layout:
        module, _, attr = layout.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise PluginError(
                layout, f"cannot import the reader of layout {layout!r}: {exc}"
            ) from exc
    raise PluginError(layout, f"no reader for layout {layout!r}; known: {sorted(BUILTIN_READERS)}")
