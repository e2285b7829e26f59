"""Gradient boosting and random forest (scikit-learn), with defaults for noisy hourly returns."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

from cryptolake.ml.estimators._base import DirectionClassifier


class GradientBoostingModel(DirectionClassifier):
    """Histogram gradient boosting: shallow trees, strong leaf regularisation, a fixed seed."""

    def __init__(
        self,
        learning_rate: float = 0.05,
        max_iter: int = 150,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 200,
        l2_regularization: float = 1.0,
        random_state: int = 0,
    ) -> None:
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    def _fit(self, X: np.ndarray, y: np.ndarray, **_: Any) -> None:
        self.model_ = HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=min(self.min_samples_leaf, max(1, len(y) // 10)),
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=self.random_state,
        ).fit(X, y)
        self.n_iter_ = self.model_.n_iter_

    def _proba(self, X: np.ndarray) -> np.ndarray:
        proba: np.ndarray = self.model_.predict_proba(X)
        return proba


class RandomForestModel(DirectionClassifier):
    """A random forest of depth-limited trees on bootstrap subsamples, a fixed seed."""

    def __init__(
        self,
        n_estimators: int = 100,
        max_depth: int | None = 8,
        min_samples_leaf: int = 100,
        max_samples: float | None = 0.3,
        max_features: float | str = "sqrt",
        n_jobs: int = 1,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.max_samples = max_samples
        self.max_features = max_features
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fit(self, X: np.ndarray, y: np.ndarray, **_: Any) -> None:
        self.model_ = RandomForestClassifier(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            min_samples_leaf=min(self.min_samples_leaf, max(1, len(y) // 10)),
            max_samples=self.max_samples if len(y) >= 20 else None,
            max_features=self.max_features,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
        ).fit(X, y)
        # parallel prediction sums the trees in a racy order: predict in one thread, exactly
        self.model_.n_jobs = 1

    def _proba(self, X: np.ndarray) -> np.ndarray:
        proba: np.ndarray = self.model_.predict_proba(X)
        return proba
