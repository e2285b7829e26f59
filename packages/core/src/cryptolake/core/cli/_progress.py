"""Live progress of ``cryptolake pipeline run``: one line per step, rows and elapsed time.

On a terminal the running step is a live line (redrawn in place) and each finished step is
printed above it; in CI logs and pipes (not a terminal) the same facts come as plain lines —
one when a step starts, one every ``every`` seconds while it runs, one when it ends — with no
control codes. Every line fits ``width`` columns (80 by default): the step's name is kept whole,
the job's own message is what gets shortened.

What moves: the rows a step has committed so far (the ``cryptolake_batch_committed`` lifecycle
hook, so every job is counted the same way), what its job reports through ``ctx.report`` (records
replayed, Spark tasks done, dbt nodes finished, tables maintained) and the elapsed time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from cryptolake.core._version import __version__
from cryptolake.core.markers import hookimpl
from cryptolake.core.registry import PluginManifest

if TYPE_CHECKING:
    from rich.console import Console

    from cryptolake.core.pipeline import Step


def elapsed(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


@dataclass
class _Running:
    index: int
    name: str
    started: float
    done: int = 0
    total: int | None = None
    message: str = ""
    rows: int = 0


class StepProgress:
    """What ``pipeline run`` shows while its steps run (see the module's docstring).

    Use as a context manager around the run; pass :meth:`step` as ``run_in_process``'s
    ``progress``, :meth:`reported` as its ``report``, and :attr:`plugin` to the plugin host.
    """

    def __init__(self, total_steps: int, console: Console, *, interactive: bool | None = None,
                 every: float = 15.0, width: int = 80,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total_steps = total_steps
        self.console = console
        self.interactive = console.is_terminal if interactive is None else interactive
        self.every, self.width, self.clock = every, width, clock
        self.current: _Running | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._live: Any = None
        self._ticker: threading.Thread | None = None
        self._last_line = 0.0
        self.plugin = _CommitCounter(self)

    # -- the lines ---------------------------------------------------------------------------

    def _head(self, index: int, name: str) -> str:
        n = len(str(self.total_steps))
        return f"[{index + 1:>{n}}/{self.total_steps}] {name}"

    def line(self, now: float | None = None) -> str:
        """The running step's line: ``[3/9] silver.ohlcv_1h  1m23s  rows 1,234  <message>``."""
        r = self.current
        if r is None:
            return ""
        now = self.clock() if now is None else now
        head = f"{self._head(r.index, r.name)}  {elapsed(now - r.started)}"
        if r.rows:
            head += f"  rows {r.rows:,}"
        detail = r.message
        if not detail and r.done:
            detail = f"{r.done:,}/{r.total:,}" if r.total else f"{r.done:,}"
        if r.total and r.message:
            detail = f"{min(100, 100 * r.done // r.total):>3}% {detail}"
        return self._fit(head, detail)

    def _fit(self, head: str, detail: str) -> str:
        if not detail:
            return head[: self.width]
        room = self.width - len(head) - 2
        if room < 8:
            return head[: self.width]
        if len(detail) > room:
            detail = detail[: room - 3] + "..."
        return f"{head}  {detail}"

    def _emit(self, text: str) -> None:
        if self._live is not None:
            self._live.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            out: IO[str] = self.console.file
            out.write(text + "\n")
            out.flush()

    # -- callbacks -----------------------------------------------------------------------------

    def step(self, index: int, step: Step, status: str) -> None:
        """``run_in_process``'s ``progress``: a step started or ended."""
        now = self.clock()
        with self._lock:
            if status == "running":
                self.current = _Running(index, step.name, now)
                self._last_line = now
                if self._live is None:
                    self._emit(f"{self._head(index, step.name)}  started")
                return
            r = self.current if self.current and self.current.index == index else _Running(
                index, step.name, now)
            word = {"succeeded": "ok", "failed": "FAILED"}.get(status, status)
            rows = f"  rows {r.rows:,}" if r.rows else ""
            self.current = None
        self._emit(f"{self._head(index, step.name)}  {word}  {elapsed(now - r.started)}{rows}")
        self._refresh()

    def reported(self, index: int, step: Step, done: int, total: int | None, message: str
                 ) -> None:
        """``run_in_process``'s ``report``: what the running step's job reported."""
        with self._lock:
            r = self.current
            if r is None or r.index != index:
                return
            r.done, r.total, r.message = done, total, message
        self._refresh()

    def committed(self, rows: int) -> None:
        with self._lock:
            if self.current is not None:
                self.current.rows += max(rows, 0)
        self._refresh()

    def tick(self) -> None:
        """In plain mode: print the running step's line when ``every`` seconds have passed."""
        now = self.clock()
        with self._lock:
            if self.current is None or now - self._last_line < self.every:
                return
            self._last_line = now
            text = self.line(now)
        self._emit(text)

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._renderable(), refresh=True)

    def _renderable(self) -> Any:
        from rich.text import Text

        return Text(self.line(), no_wrap=True, overflow="ellipsis")

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> StepProgress:
        if self.interactive:
            from rich.live import Live

            self._live = Live(self._renderable(), console=self.console, refresh_per_second=2,
                              transient=True, get_renderable=self._renderable)
            self._live.start()
        else:
            self._ticker = threading.Thread(target=self._tick_loop, name="pipeline-progress",
                                            daemon=True)
            self._ticker.start()
        return self

    def _tick_loop(self) -> None:
        while not self._stop.wait(1.0):
            self.tick()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(5)
        if self._live is not None:
            self._live.stop()
            self._live = None


class _CommitCounter:
    """Counts the rows each running step commits (``cryptolake_batch_committed``)."""

    CRYPTOLAKE_PLUGIN = PluginManifest(
        "cryptolake.cli-progress", __version__, description="rows committed by the running step"
    )

    def __init__(self, progress: StepProgress) -> None:
        self.progress = progress

    @hookimpl
    def cryptolake_batch_committed(
        self, table: str, snapshot_id: int | None, rows: int, source: str
    ) -> None:
        self.progress.committed(rows)
