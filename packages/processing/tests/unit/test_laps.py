"""The phase clock whose figures the Silver and Gold jobs put in their step records."""

from __future__ import annotations

import pytest

from cryptolake.processing import _laps
from cryptolake.processing._laps import Laps


def test_laps_keep_their_order_and_add_up_a_repeated_phase(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter([10.0, 11.5, 14.0, 14.25, 20.0])
    monkeypatch.setattr(_laps.time, "perf_counter", lambda: next(ticks))
    laps = Laps()
    laps.lap("changes")  # 1.5
    laps.lap("compute")  # 2.5
    laps.lap("changes")  # +0.25
    laps.lap("watermark")  # 5.75
    assert list(laps.seconds) == ["changes", "compute", "watermark"]
    assert laps.seconds == {"changes": 1.75, "compute": 2.5, "watermark": 5.75}
