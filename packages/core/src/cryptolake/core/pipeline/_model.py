from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

StepKind = Literal["ingest", "transform", "gate"]


@dataclass(frozen=True)
class Step:
    """One step: a source, a transform or a layer's gate (itself a transform ``gate.<layer>``)."""

    kind: StepKind
    name: str
    config: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    heavy: bool = False

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "config": self.config, "heavy": self.heavy}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Step:
        return cls(raw["kind"], raw["name"], dict(raw.get("config") or {}), bool(raw.get("heavy")))


@dataclass
class PipelineRun:
    """What identifies one run of a pipeline over a window."""

    pipeline: str
    source: str
    start: datetime | None
    end: datetime | None
    via: str = "in-process"
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def as_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "source": self.source,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "via": self.via,
            "run_id": self.run_id,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> PipelineRun:
        return cls(
            pipeline=raw["pipeline"],
            source=raw["source"],
            start=datetime.fromisoformat(raw["start"]) if raw.get("start") else None,
            end=datetime.fromisoformat(raw["end"]) if raw.get("end") else None,
            via=raw.get("via", "in-process"),
            run_id=raw["run_id"],
        )


@dataclass
class StepOutcome:
    step: Step
    status: str  # succeeded | failed | skipped
    rows_in: int = 0
    rows_out: int = 0
    rejected: int = 0
    duration_s: float = 0.0
    snapshot_ids: dict[str, int | None] = field(default_factory=dict)
    gate: str = "n/a"
    error: str | None = None
    #: the job's own phases and their wall seconds (its result's ``details["seconds"]``), if any
    phases: dict[str, float] = field(default_factory=dict)
