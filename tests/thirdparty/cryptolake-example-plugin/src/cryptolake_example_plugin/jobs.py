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


class NearestMean:
    """A direction classifier for cryptolake-ml: the class whose mean feature vector is nearest
    (in units of each feature's spread) wins; ``predict_proba`` is a softmax of the distances."""

    def __init__(self, temperature: float = 1.0) -> None:
        self.temperature = temperature

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"temperature": self.temperature}

    def set_params(self, **params: Any) -> NearestMean:
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X: Any, y: Any, y_return: Any = None) -> NearestMean:
        import numpy as np

        X, y = np.asarray(X, dtype=float), np.asarray(y)
        self.classes_ = np.unique(y)
        self.scale_ = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
        self.means_ = np.stack([X[y == c].mean(axis=0) / self.scale_ for c in self.classes_])
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X: Any) -> Any:
        import numpy as np

        Z = np.asarray(X, dtype=float) / self.scale_
        d = ((Z[:, None, :] - self.means_[None]) ** 2).mean(axis=2)
        logits = -d / self.temperature
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> Any:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
