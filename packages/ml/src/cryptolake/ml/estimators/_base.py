"""What every CryptoLake estimator shares: scikit-learn's rules, one place for validation."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

#: Threads of the native libraries (OpenMP, BLAS, torch) while fitting and predicting. One: on a
#: small shared machine spinning thread pools cost far more than they give (measured 10-60x), and
#: a fixed count keeps floating-point results reproducible.
THREADS = 1


class DirectionClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Base of the direction models: validates input, encodes labels, exposes ``predict_proba``.

    Subclasses implement ``_fit(X, y_encoded, **fit_params)`` and ``_proba(X)`` (shape
    ``(n_samples, n_classes_)``). ``__init__`` only stores parameters; ``fit`` returns ``self``.
    """

    def fit(self, X: Any, y: Any, y_return: Any = None) -> DirectionClassifier:
        """Fit on features ``X`` and directions ``y``; ``y_return`` (the log returns) is used by
        models with a return head and ignored by the others."""
        X, y = validate_data(self, X, y, dtype=np.float32, ensure_min_samples=2)
        check_classification_targets(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                f"but the data contains only one class: {self.classes_[0]!r}"
            )
        with threadpool_limits(THREADS):
            self._fit(X, y_enc.astype(np.int64), y_return=y_return)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "classes_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        with threadpool_limits(THREADS):
            return self._proba(X)

    def predict(self, X: Any) -> np.ndarray:
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def _fit(self, X: np.ndarray, y: np.ndarray, **fit_params: Any) -> None:
        raise NotImplementedError

    def _proba(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError
