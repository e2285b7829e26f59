"""The results vocabulary: what a job and a quality check report. A leaf module.

:class:`JobResult` is what a source or transform returns from ``run(ctx)``; :class:`CheckResult`
is one row of what a quality suite returns. Both are importable from :mod:`cryptolake.core`.

.. versionadded:: 0.1
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

#: The outcome of one quality check. ``pass``: the check held. ``warn``: it did not hold, but the
#: check is advisory (the gate still passes). ``fail``: it did not hold (the gate fails).
#: ``error``: the check could not be evaluated (the gate fails).
Outcome = Literal["pass", "warn", "fail", "error"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)


@dataclass
class JobResult:
    """What a job did, in figures a summary table can show.

    ``rows_in``: records read; ``rows_out``: rows written; ``rejected``: records sent to the
    dead-letter table; ``snapshot_ids``: table → the Iceberg snapshot the job committed (``None``
    when it wrote nothing); ``details``: anything else worth showing (JSON-serialisable).
    ``duration_s`` is set by :func:`~cryptolake.core.run_job`.
    """

    rows_in: int = 0
    rows_out: int = 0
    rejected: int = 0
    snapshot_ids: dict[str, int | None] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0

    def merge(self, other: JobResult) -> JobResult:
        return JobResult(
            rows_in=self.rows_in + other.rows_in,
            rows_out=self.rows_out + other.rows_out,
            rejected=self.rejected + other.rejected,
            snapshot_ids={**self.snapshot_ids, **other.snapshot_ids},
            details={**self.details, **other.details},
            duration_s=self.duration_s + other.duration_s,
        )


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one quality check on one table (``outcome`` is one of :data:`OUTCOMES`)."""

    check: str
    table: str
    outcome: str  # Outcome; a str so results read back from ops.dq_results type-check too
    value: float | None = None
    snapshot_id: int | None = None
    message: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(
                f"check {self.check!r} on {self.table}: outcome {self.outcome!r} is not one of "
                f"{', '.join(OUTCOMES)}"
            )

    @property
    def failed(self) -> bool:
        return self.outcome in ("fail", "error")
