"""From registered model entries to runnable specs, with the parameters of a full and a fast run.

Built-in and third-party models are entries of the model registry alike
(``cryptolake_register_models``). An entry whose capabilities include ``sequence`` receives the
whole window of features, every other entry the last step (the 20 features of the bar). The
built-in ``gb``, ``rf`` and ``lstm`` are the ensemble's members; ``tft`` serves beside the
ensemble (A/B); a third party's model is trained, evaluated and can be promoted like any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from cryptolake.core.registry import ModelPlugin
from cryptolake.ml.evaluation import ModelSpec

#: Rows of history a sequence model sees (hours), full and fast.
WINDOW = 12
FAST_WINDOW = 4
ENSEMBLE = "ensemble"
MEMBERS = ("gb", "rf", "lstm")

FULL_PARAMS: dict[str, dict[str, Any]] = {
    "gb": {"max_iter": 150},
    "rf": {"n_estimators": 100},
    "lstm": {"hidden_size": 32, "max_epochs": 4, "max_samples": 40_000},
    "tft": {"d_model": 16, "n_heads": 2, "max_epochs": 3, "max_samples": 20_000},
}
FAST_PARAMS: dict[str, dict[str, Any]] = {
    "gb": {"max_iter": 20, "min_samples_leaf": 50},
    "rf": {"n_estimators": 15, "min_samples_leaf": 50},
    "lstm": {"hidden_size": 8, "max_epochs": 2, "max_samples": 5_000},
    "tft": {"d_model": 8, "n_heads": 2, "max_epochs": 2, "max_samples": 3_000},
}


def _make(cls: type, params: dict[str, Any]) -> Any:
    return cls(**params)


def window_for(fast: bool) -> int:
    return FAST_WINDOW if fast else WINDOW


def spec_for(entry: ModelPlugin, *, fast: bool, extra: dict[str, Any] | None = None) -> ModelSpec:
    cls = entry.load()
    sequence = "sequence" in entry.capabilities
    params = dict((FAST_PARAMS if fast else FULL_PARAMS).get(entry.name, {}))
    if sequence:
        params["window"] = window_for(fast)
    params.update(extra or {})
    return ModelSpec(
        name=entry.name,
        make=partial(_make, cls, params),
        view="sequence" if sequence else "tabular",
        member=entry.name in MEMBERS,
        params=params,
    )


#: A model takes part when it predicts a direction probability (capability ``probabilistic``).
DIRECTION_CAPABILITY = "probabilistic"


def specs_for(
    entries: Iterable[ModelPlugin], *, fast: bool, only: Sequence[str] | None = None
) -> list[ModelSpec]:
    """Specs of every registered direction model (``probabilistic``: it has ``predict_proba``),
    but the ensemble, which is assembled from its members."""
    return [spec_for(e, fast=fast) for e in entries
            if e.name != ENSEMBLE and DIRECTION_CAPABILITY in e.capabilities
            and (not only or e.name in only)]
