"""Configuration of the replay source."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from cryptolake.ingest._job import BronzeTarget

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"


class ReplayConfig(BronzeTarget):
    data_dir: Path | None = Field(
        None, description="directory of recorded files (default: the bundled real sample)"
    )
    speed: float = Field(
        0.0, ge=0, description="event time per wall-clock time, e.g. 3600; 0 = as fast as possible"
    )
    include: list[str] = Field(
        default_factory=lambda: ["*"],
        description="fnmatch globs on the path relative to data_dir or the file name ('*' crosses '/')",
    )
    exclude: list[str] = Field(
        default_factory=lambda: ["README*", "PROVENANCE*", "*.md"], description="globs to skip"
    )
    symbols: list[str] | None = Field(None, description="only these Binance symbols / coin ids")
    fraction: float = Field(
        1.0,
        gt=0,
        le=1,
        description="keep the records in the first `fraction` of each file's own time span "
        "(first .. last event time of that file), e.g. 0.25: a deterministic part of any data set "
        "that keeps every file and feed, for measuring how cost grows",
    )
    newest_day: Literal["include", "exclude", "only"] = Field(
        "include",
        description="each file's newest day (records within 24 h of its last event, after "
        "`fraction`): 'exclude' replays all but it, 'only' replays just it (a new day on top); "
        "a file spanning a day or less (a capture, a snapshot) has no older part and stays whole "
        "with 'exclude'",
    )
    bronze_flush_s: float = Field(30.0, description="when pacing, commit Bronze rows this often")
    max_pause_s: float = Field(5.0, description="longest single pause when pacing (speed > 0)")
    drain_to_bronze: bool = Field(
        False,
        description="after producing, move the Kafka topics into Bronze with the Python sink "
        "(off when the Spark stream job runs)",
    )
    sink_group_id: str = "cryptolake-bronze-sink"

    def directory(self) -> Path:
        return (self.data_dir or SAMPLE_DIR).expanduser().resolve()
