"""Wall seconds of a job's phases, reported in its step record (``details["seconds"]``)."""

from __future__ import annotations

import time


class Laps:
    """``lap(name)`` records the seconds since the previous lap (or since creation) under
    ``name``; ``seconds`` keeps them in order, rounded to 10 ms."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + now - self._t, 2)
        self._t = now
