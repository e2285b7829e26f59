"""``pipeline run``'s live progress: steps move (rows, elapsed, the job's report), every line fits
80 columns, and off a terminal (CI logs) the lines are plain — no control codes."""

from __future__ import annotations

import io

from rich.console import Console

from cryptolake.core.cli._progress import StepProgress, elapsed
from cryptolake.core.pipeline import Step


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


STEPS = [Step("ingest", "replay.recorded"), Step("transform", "silver.ohlcv_1h"),
         Step("transform", "dbt.gold")]


def _run(progress: StepProgress, clock: Clock) -> None:
    with progress:
        progress.step(0, STEPS[0], "running")
        clock.now += 3
        progress.reported(0, STEPS[0], 5000, 41_761, "5000 to Kafka, 0 for Bronze")
        progress.tick()
        clock.now += 20
        progress.tick()
        progress.step(0, STEPS[0], "succeeded")
        progress.step(1, STEPS[1], "running")
        clock.now += 95
        progress.reported(1, STEPS[1], 40, 52, "Spark tasks 40/52 (3/5 jobs, running "
                          "MERGE INTO lakehouse.silver.ohlcv_1h USING a very long plan name)")
        progress.committed(12_345_678)
        progress.tick()
        progress.step(1, STEPS[1], "succeeded")
        progress.step(2, STEPS[2], "running")
        clock.now += 7
        progress.reported(2, STEPS[2], 3, 12, "dbt run: fact_price_hourly success")
        progress.tick()
        progress.step(2, STEPS[2], "failed")


def test_plain_lines_in_ci_logs_move_and_fit_80_columns() -> None:
    buf, clock = io.StringIO(), Clock()
    console = Console(file=buf, width=200, force_terminal=False, color_system=None)
    progress = StepProgress(len(STEPS), console, every=10, clock=clock)
    assert not progress.interactive
    _run(progress, clock)
    text = buf.getvalue()
    lines = text.splitlines()
    assert "\x1b" not in text and "\r" not in text
    assert max(len(line) for line in lines) <= 80
    assert lines[0] == "[1/3] replay.recorded  started"
    # the first tick came before `every` seconds passed: no line; the second printed one
    assert "[1/3] replay.recorded  23s   11% 5000 to Kafka, 0 for Bronze" in lines
    assert "[1/3] replay.recorded  ok  23s" in lines
    running = next(line for line in lines if line.startswith("[2/3] silver.ohlcv_1h  1m35s"))
    assert "rows 12,345,678" in running and "76% Spark tasks 40/52" in running
    assert running.endswith("...")  # the job's message is shortened, the step's name is whole
    assert "[2/3] silver.ohlcv_1h  ok  1m35s  rows 12,345,678" in lines
    assert "[3/3] dbt.gold  FAILED  7s" in lines


def test_on_a_terminal_the_running_line_is_live_and_finished_steps_stay() -> None:
    buf, clock = io.StringIO(), Clock()
    console = Console(file=buf, width=80, force_terminal=True, color_system=None)
    progress = StepProgress(len(STEPS), console, clock=clock)
    assert progress.interactive
    _run(progress, clock)
    text = buf.getvalue()
    for done in ("[1/3] replay.recorded  ok  23s", "[2/3] silver.ohlcv_1h  ok  1m35s",
                 "[3/3] dbt.gold  FAILED  7s"):
        assert done in text
    assert "started" not in text  # on a terminal the live line says it


def test_elapsed() -> None:
    assert [elapsed(s) for s in (0, 59.9, 60, 185, 3720)] == ["0s", "59s", "1m00s", "3m05s",
                                                             "1h02m"]
