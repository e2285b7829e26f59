"""The stacking ensemble: members' probabilities combined with weights fitted out of fold.

The weights are non-negative and sum to one (a softmax parametrisation), chosen to minimise the
log loss of the combined probability on **out-of-fold** predictions — predictions each member
made for rows it was not trained on, from a chronological split with a gap (``gap`` rows) between
the rows a member learns from and the rows it predicts. Nothing is hard-coded: the same data
gives the same weights, other data other weights.

``fit`` does the whole job (inner chronological folds, then every member refit on all rows);
:meth:`StackingEnsemble.from_members` assembles one from members already fitted and their
out-of-fold predictions (the walk-forward evaluation has them and spares the refits).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from cryptolake.ml.estimators._base import DirectionClassifier

EPS = 1e-6


def member_view(X: np.ndarray, view: str, n_tab: int) -> np.ndarray:
    """The columns a member sees: the whole window (``sequence``) or its last step (``tabular``)."""
    return X if view == "sequence" else X[:, -n_tab:]


def fit_weights(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to 1 minimising the log loss of ``probs @ w`` (P(up))."""
    from scipy.optimize import minimize

    p = np.clip(probs, EPS, 1 - EPS)
    n = len(y)

    def loss(z: np.ndarray) -> tuple[float, np.ndarray]:
        w = np.exp(z - z.max())
        w /= w.sum()
        q = np.clip(p @ w, EPS, 1 - EPS)
        value = -float(np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
        gw = p.T @ (-(y / q - (1 - y) / (1 - q)) / n)
        return value, w * (gw - w @ gw)

    z = minimize(loss, np.zeros(p.shape[1]), jac=True, method="L-BFGS-B").x
    w = np.exp(z - z.max())
    return np.asarray(w / w.sum())


class StackingEnsemble(DirectionClassifier):
    """Members ``[(name, estimator, view), …]``; ``view`` is ``"tabular"`` or ``"sequence"``."""

    def __init__(
        self,
        members: list[tuple[str, Any, str]] | None = None,
        n_tab: int = 20,
        cv: int = 3,
        gap: int = 0,
    ) -> None:
        self.members = members
        self.n_tab = n_tab
        self.cv = cv
        self.gap = gap

    def _members(self) -> list[tuple[str, Any, str]]:
        if self.members:
            return list(self.members)
        from cryptolake.ml.estimators import GradientBoostingModel, RandomForestModel

        return [("gb", GradientBoostingModel(max_iter=30), "tabular"),
                ("rf", RandomForestModel(n_estimators=20), "tabular")]

    def _fit(self, X: np.ndarray, y: np.ndarray, *, y_return: Any = None, **_: Any) -> None:
        members = self._members()
        n_tab = min(self.n_tab, X.shape[1])
        binary = len(self.classes_) == 2
        bounds = np.linspace(0, len(y), self.cv + 1).astype(int)
        oof, rows = [], []
        for j in range(1, self.cv):
            end_train = max(0, bounds[j] - self.gap)
            train, test = np.arange(end_train), np.arange(bounds[j], bounds[j + 1])
            if len(np.unique(y[train])) < len(self.classes_) or not len(test):
                continue
            cols = [clone(est).fit(member_view(X[train], v, n_tab), y[train], y_return=None)
                    .predict_proba(member_view(X[test], v, n_tab))[:, -1]
                    for _, est, v in members]
            oof.append(np.column_stack(cols))
            rows.append(test)
        if binary and oof:
            self.weights_ = fit_weights(np.vstack(oof), y[np.concatenate(rows)].astype(float))
        else:  # no out-of-fold rows (tiny data) or more than two classes: average
            self.weights_ = np.full(len(members), 1.0 / len(members))
        self.fitted_ = [(name, clone(est).fit(member_view(X, v, n_tab), y), v)
                        for name, est, v in members]

    @classmethod
    def from_members(
        cls,
        fitted: list[tuple[str, Any, str]],
        oof_probs: np.ndarray,
        y_oof: np.ndarray,
        n_tab: int = 20,
    ) -> StackingEnsemble:
        """An ensemble of already fitted binary members, weights fitted on their OOF P(up)."""
        ens = cls(members=[(n, clone(e), v) for n, e, v in fitted], n_tab=n_tab)
        ens.classes_ = fitted[0][1].classes_
        ens.n_features_in_ = fitted[0][1].n_features_in_ if fitted[0][2] == "sequence" else None
        ens.fitted_ = list(fitted)
        ens.weights_ = fit_weights(oof_probs, y_oof.astype(float))
        return ens

    def member_probas(self, X: np.ndarray) -> np.ndarray:
        n_tab = min(self.n_tab, X.shape[1])
        return np.column_stack([est.predict_proba(member_view(X, v, n_tab))[:, -1]
                                for _, est, v in self.fitted_])

    def _proba(self, X: np.ndarray) -> np.ndarray:
        n_tab = min(self.n_tab, X.shape[1])
        if len(self.classes_) != 2:
            stacked = sum(w * est.predict_proba(member_view(X, v, n_tab))
                          for w, (_, est, v) in zip(self.weights_, self.fitted_, strict=True))
            return np.asarray(stacked)
        p = self.member_probas(X) @ self.weights_
        return np.column_stack([1 - p, p])

    def predict_proba(self, X: Any) -> np.ndarray:
        if getattr(self, "n_features_in_", 0) is None:  # assembled: members validate their input
            return self._proba(np.asarray(X, dtype=np.float32))
        return super().predict_proba(X)
