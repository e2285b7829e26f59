"""Implementations, imported only when an entry is loaded."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from cryptolake.core import CheckResult, JobContext, JobResult
from cryptolake_example_plugin.plugin import TicksConfig


class CountingSource:
    def __init__(self, config: TicksConfig) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        return JobResult(rows_in=self.config.count, rows_out=self.config.count)


class Doubler:
    def __init__(self, config: BaseModel) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> JobResult:
        n = int(ctx.params.get("rows", 1))
        return JobResult(rows_in=n, rows_out=2 * n)


class PositiveSuite:
    def __init__(self, config: BaseModel) -> None:
        self.config = config

    def run(self, ctx: JobContext) -> list[CheckResult]:
        value = float(ctx.params.get("min_price", 1.0))
        return [
            CheckResult(
                "min(price) > 0", "silver.example_ticks", "pass" if value > 0 else "fail", value
            )
        ]


class LastValue:
    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"offset": self.offset}

    def set_params(self, **params: Any) -> LastValue:
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X: Any, y: Any) -> LastValue:
        self.last_ = float(list(y)[-1])
        return self

    def predict(self, X: Any) -> list[float]:
        return [self.last_ + self.offset for _ in X]
