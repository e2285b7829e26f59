"""The estimators: each follows the scikit-learn rules (``__init__`` stores parameters, ``fit``
returns ``self``, ``predict_proba``), seeds fixed so the same data and parameters give the same
model. Sequence models take ``X`` of shape ``(n, window * k)``, oldest step first."""

from __future__ import annotations

from cryptolake.ml.estimators._base import DirectionClassifier
from cryptolake.ml.estimators._tft import TemporalFusionTransformer
from cryptolake.ml.estimators._torch import LSTMModel, TorchSequenceClassifier
from cryptolake.ml.estimators._trees import GradientBoostingModel, RandomForestModel

__all__ = [
    "DirectionClassifier",
    "GradientBoostingModel",
    "LSTMModel",
    "RandomForestModel",
    "TemporalFusionTransformer",
    "TorchSequenceClassifier",
]
