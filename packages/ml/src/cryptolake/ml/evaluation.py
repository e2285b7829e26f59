"""Purged walk-forward evaluation against naive baselines, on the same rows, with intervals.

Splits (:func:`walk_forward_splits`): the rows before the held-out stretch are cut by time into
``n_folds + 2`` equal chunks. Fold ``i`` (``i = 1 … n_folds + 1``) tests chunk ``i`` and trains on
every earlier row whose label window ends at least ``embargo`` hours before the chunk starts
(expanding window; ``embargo >= horizon``, so a training row's label ``(T, T + h]`` never overlaps
a test row's). Fold 1 only produces the out-of-fold predictions the ensemble's first weights are
fitted on; the reported walk-forward rows are folds 2 … n+1, the same rows for every model and
baseline. The **held-out stretch** — the last ``holdout_days`` days (60 by default, 3 in fast
mode) — is never used for any choice (weights, promotion); it is scored once by models trained on
everything before it (purged the same way) and reported apart.

Metrics: directional accuracy with a 95 % moving-block bootstrap interval (blocks of
``block_hours`` consecutive hours, all coins of an hour together, so autocorrelation and
cross-coin correlation stay inside a block), Brier score, log loss, and a calibration table.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from cryptolake.ml.features import Dataset

log = logging.getLogger(__name__)

BASELINES = ("always_up", "persistence", "contrarian", "momentum", "logreg")
EPS = 1e-6
HOUR_NS = 3_600_000_000_000


# -- splits --------------------------------------------------------------------------------------


def _hours(times: np.ndarray) -> np.ndarray:
    return (pd.to_datetime(times, utc=True).asi8 // HOUR_NS).astype(np.int64)


def purged_train(hours: np.ndarray, test_start: int, horizon: int, embargo: int) -> np.ndarray:
    """Rows whose label window ``(T, T + h]`` ends at least ``embargo`` hours before ``test_start``."""
    return np.flatnonzero(hours + horizon + embargo <= test_start)


@dataclass(frozen=True)
class Split:
    fold: int
    train: np.ndarray
    test: np.ndarray
    reported: bool


def walk_forward_splits(
    times: np.ndarray,
    horizon: int,
    *,
    n_folds: int = 3,
    embargo: int | None = None,
    holdout_days: float = 60,
) -> tuple[list[Split], Split]:
    """(walk-forward splits, held-out split) over rows at ``times`` (bar open times)."""
    embargo = horizon if embargo is None else embargo
    if embargo < horizon:
        raise ValueError(f"embargo {embargo} h is shorter than the horizon {horizon} h")
    hours = _hours(times)
    end = int(hours.max()) + 1
    holdout_start = end - int(round(holdout_days * 24))
    pre = hours < holdout_start - horizon  # the walk-forward rows' labels end before the holdout
    start = int(hours.min())
    bounds = np.linspace(start, holdout_start - horizon, n_folds + 3).round().astype(np.int64)
    splits = []
    for i in range(1, n_folds + 2):
        test = np.flatnonzero(pre & (hours >= bounds[i]) & (hours < bounds[i + 1]))
        train = purged_train(hours, int(bounds[i]), horizon, embargo)
        splits.append(Split(i, train, test, reported=i >= 2))
    holdout = Split(0, purged_train(hours, holdout_start, horizon, embargo),
                    np.flatnonzero(hours >= holdout_start), reported=True)
    return splits, holdout


# -- metrics ---------------------------------------------------------------------------------


def block_ids(times: np.ndarray, block_hours: int) -> np.ndarray:
    hours = _hours(times)
    return (hours - hours.min()) // block_hours


def block_bootstrap(
    values: np.ndarray, blocks: np.ndarray, *, n_boot: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """95 % interval of the mean of ``values`` by resampling whole blocks (with replacement)."""
    if len(values) == 0:
        return float("nan"), float("nan")
    uniq, inv = np.unique(blocks, return_inverse=True)
    sums = np.bincount(inv, weights=values, minlength=len(uniq))
    counts = np.bincount(inv, minlength=len(uniq)).astype(float)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(uniq), size=(n_boot, len(uniq)))
    means = sums[picks].sum(axis=1) / np.maximum(counts[picks].sum(axis=1), 1)
    low, high = np.quantile(means, [0.025, 0.975])
    return float(low), float(high)


def calibration_table(prob: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict[str, Any]]:
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(prob, edges[1:-1]), 0, bins - 1)
    table = []
    for b in range(bins):
        m = which == b
        if m.any():
            table.append({"bin_low": float(edges[b]), "bin_high": float(edges[b + 1]),
                          "n": int(m.sum()), "mean_pred": float(prob[m].mean()),
                          "frac_up": float(y[m].mean())})
    return table


@dataclass
class Metrics:
    n: int
    accuracy: float
    ci_low: float
    ci_high: float
    brier: float
    log_loss: float
    calibration: list[dict[str, Any]]


def score(prob: np.ndarray, y: np.ndarray, times: np.ndarray, block_hours: int, seed: int = 0) -> Metrics:
    hits = ((prob >= 0.5).astype(int) == y).astype(float)
    low, high = block_bootstrap(hits, block_ids(times, block_hours), seed=seed)
    p = np.clip(prob, EPS, 1 - EPS)
    return Metrics(
        n=len(y),
        accuracy=float(hits.mean()) if len(y) else float("nan"),
        ci_low=low,
        ci_high=high,
        brier=float(np.mean((prob - y) ** 2)) if len(y) else float("nan"),
        log_loss=float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))) if len(y) else float("nan"),
        calibration=calibration_table(prob, y),
    )


def paired_difference(
    prob_a: np.ndarray, prob_b: np.ndarray, y: np.ndarray, times: np.ndarray, block_hours: int
) -> tuple[float, float, float]:
    """(accuracy of a − accuracy of b, 95 % block-bootstrap interval) on the same rows."""
    diff = ((prob_a >= 0.5) == y).astype(float) - ((prob_b >= 0.5) == y).astype(float)
    low, high = block_bootstrap(diff, block_ids(times, block_hours))
    return float(diff.mean()) if len(diff) else float("nan"), low, high


# -- baselines -------------------------------------------------------------------------------


def _rule_prob(direction_up: np.ndarray, train_up: np.ndarray, train_y: np.ndarray) -> np.ndarray:
    """The rule's direction, with confidence = the rule's hit rate on the training rows (kept
    just above 1/2 when the rule lost in training: the rule's direction is never flipped)."""
    rate = float(np.mean(train_up == train_y)) if len(train_y) else 0.5
    rate = min(max(rate, 0.5 + 1e-3), 1 - EPS)
    return np.where(direction_up, rate, 1 - rate)


def _last_move(data: Dataset) -> np.ndarray:
    return data.meta["ret_1h" if data.horizon == 1 else "ret_24h"].to_numpy()


def _momentum_move(data: Dataset) -> np.ndarray:
    return data.meta["ret_24h" if data.horizon == 1 else "ret_72h"].to_numpy()


def _lag_matrix(data: Dataset) -> np.ndarray:
    cols = ["ret_1h"] + [c for c in data.meta.columns if c.startswith("ret_1h_lag")]
    cols += ["ret_24h"] if data.horizon > 1 else []
    return data.meta[cols].to_numpy(dtype="float64")


def baseline_proba(name: str, train: Dataset, test: Dataset) -> np.ndarray:
    """P(up) of baseline ``name`` on ``test``, anything it learns taken from ``train`` only.

    always_up: up, with confidence the training rows' up rate (at least 1/2). persistence: the
    sign of the last move over the horizon's length (1 h, or 24 h at 24 h; a flat move counts up).
    contrarian: its opposite. momentum: the sign of the longer move (24 h at 1 h, 72 h at 24 h).
    logreg: logistic regression on the last six 1-hour returns (and the 24-hour return at 24 h).
    """
    if name == "always_up":
        rate = max(float(np.mean(train.y)) if len(train) else 0.5, 0.5 + 1e-3)
        return np.full(len(test), min(rate, 1 - EPS))
    if name in ("persistence", "contrarian", "momentum"):
        move = _momentum_move if name == "momentum" else _last_move
        flip = name == "contrarian"
        up_train = (move(train) >= 0) != flip
        up_test = (move(test) >= 0) != flip
        return _rule_prob(up_test, up_train, train.y.astype(bool))
    if name == "logreg":
        from sklearn.linear_model import LogisticRegression

        Xtr = _lag_matrix(train)
        scale = np.where(Xtr.std(axis=0) > 0, Xtr.std(axis=0), 1.0)
        model = LogisticRegression(C=1.0, max_iter=500).fit(Xtr / scale, train.y)
        return np.asarray(model.predict_proba(_lag_matrix(test) / scale)[:, 1])
    raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")


# -- the evaluation --------------------------------------------------------------------------


def fit_estimator(est: Any, X: np.ndarray, y: np.ndarray, y_return: np.ndarray) -> Any:
    """``est.fit(X, y)``, passing the log returns to estimators whose ``fit`` takes ``y_return``."""
    import inspect

    if "y_return" in inspect.signature(est.fit).parameters:
        return est.fit(X, y, y_return=y_return)
    return est.fit(X, y)


@dataclass
class ModelSpec:
    """A model as the evaluation runs it: a factory of unfitted estimators and its input view."""

    name: str
    make: Callable[[], Any]
    view: str = "tabular"  # or "sequence"
    member: bool = False  # a member of the stacking ensemble
    params: dict[str, Any] = field(default_factory=dict)

    def X(self, data: Dataset) -> np.ndarray:
        return data.X_seq if self.view == "sequence" else data.X_tab

    def fit(self, data: Dataset) -> Any:
        from sklearn.base import clone  # here: the registry and the CLI import this module

        return fit_estimator(clone(self.make()), self.X(data), data.y, data.y_ret)

    def proba(self, est: Any, data: Dataset) -> np.ndarray:
        return np.asarray(est.predict_proba(self.X(data))[:, -1], dtype="float64")


@dataclass
class EvalSettings:
    n_folds: int = 3
    holdout_days: float = 60
    embargo: int | None = None  # default: the horizon
    block_hours: int = 168


@dataclass
class HorizonResult:
    """Everything evaluated at one horizon: predictions on the reported rows, per model."""

    horizon: int
    rows: Dataset  # the reported walk-forward rows
    holdout: Dataset
    wf_prob: dict[str, np.ndarray]
    holdout_prob: dict[str, np.ndarray]
    ensemble_oof: tuple[np.ndarray, np.ndarray]  # members' OOF P(up) (all folds), y
    members: list[str]
    weights: dict[str, list[float]] = field(default_factory=dict)


def _ensemble_prob(oof: list[np.ndarray], oof_y: list[np.ndarray], test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from cryptolake.ml.ensemble import fit_weights

    w = fit_weights(np.vstack(oof), np.concatenate(oof_y).astype(float))
    return test @ w, w


def evaluate_horizon(
    data: Dataset,
    specs: Sequence[ModelSpec],
    settings: EvalSettings,
    *,
    progress: Callable[[str], None] | None = None,
) -> HorizonResult:
    """Walk-forward + holdout predictions of every model, the ensemble and the baselines."""
    say = progress or (lambda _m: None)
    splits, holdout = walk_forward_splits(
        data.times, data.horizon, n_folds=settings.n_folds, embargo=settings.embargo,
        holdout_days=settings.holdout_days,
    )
    members = [s.name for s in specs if s.member]
    names = [s.name for s in specs] + (["ensemble"] if members else []) + list(BASELINES)
    wf: dict[str, list[np.ndarray]] = {n: [] for n in names}
    reported_idx: list[np.ndarray] = []
    oof: list[np.ndarray] = []
    oof_y: list[np.ndarray] = []
    weights: dict[str, list[float]] = {}
    hold_probs: dict[str, np.ndarray] = {}
    for split in [*splits, holdout]:
        train, test = data.subset(split.train), data.subset(split.test)
        if len(test) == 0 or len(np.unique(train.y)) < 2:
            continue
        label = "holdout" if split is holdout else f"fold {split.fold}"
        probs: dict[str, np.ndarray] = {}
        for spec in specs:
            say(f"h={data.horizon} {label}: {spec.name} on {len(train)} rows")
            probs[spec.name] = spec.proba(spec.fit(train), test)
        for b in BASELINES:
            probs[b] = baseline_proba(b, train, test)
        member_test = np.column_stack([probs[m] for m in members]) if members else np.zeros((len(test), 0))
        if members and oof:
            probs["ensemble"], w = _ensemble_prob(oof, oof_y, member_test)
            weights[label] = [float(x) for x in w]
        if split is holdout:
            hold_probs = probs
            continue
        if members:
            oof.append(member_test)
            oof_y.append(test.y)
        if split.reported:
            reported_idx.append(split.test)
            for n in names:
                wf[n].append(probs[n])
    idx = np.concatenate(reported_idx) if reported_idx else np.zeros(0, int)
    wf_prob = {n: np.concatenate(v) for n, v in wf.items() if v}
    hold = data.subset(holdout.test)
    return HorizonResult(
        horizon=data.horizon,
        rows=data.subset(idx),
        holdout=hold,
        wf_prob=wf_prob,
        holdout_prob=hold_probs if len(hold) else {},
        ensemble_oof=(np.vstack(oof) if oof else np.zeros((0, len(members))),
                      np.concatenate(oof_y) if oof_y else np.zeros(0)),
        members=members,
        weights=weights,
    )


@dataclass
class EvaluationRow:
    model_name: str
    horizon_h: int
    symbol: str
    period: str
    metrics: Metrics
    model_id: str | None = None
    best_baseline: str = ""
    best_baseline_accuracy: float = float("nan")
    beats_baseline: bool = False

    @property
    def is_baseline(self) -> bool:
        return self.model_name in BASELINES

    def as_record(self, evaluated_at: datetime) -> dict[str, Any]:
        m = self.metrics
        return {
            "evaluation_id": uuid.uuid4().hex,
            "model_id": self.model_id,
            "model_name": self.model_name,
            "horizon_h": self.horizon_h,
            "symbol": self.symbol,
            "period": self.period,
            "n": m.n,
            "accuracy": m.accuracy,
            "ci_low": m.ci_low,
            "ci_high": m.ci_high,
            "brier": m.brier,
            "log_loss": m.log_loss,
            "best_baseline": self.best_baseline,
            "best_baseline_accuracy": self.best_baseline_accuracy,
            "beats_baseline": self.beats_baseline,
            "calibration_json": json.dumps(m.calibration),
            "evaluated_at": evaluated_at,
        }


def report_rows(result: HorizonResult, block_hours: int, per_symbol: bool = True) -> list[EvaluationRow]:
    """Metric rows: every model and baseline, pooled (``ALL``) and per coin, both periods.

    The best baseline of a (symbol, period) is the one with the highest accuracy on those rows;
    a model *beats* it only when its interval's lower bound is above that accuracy.
    """
    rows: list[EvaluationRow] = []
    for period, data, probs in (("walk_forward", result.rows, result.wf_prob),
                                ("holdout", result.holdout, result.holdout_prob)):
        if not len(data) or not probs:
            continue
        symbols = ["ALL"] + (sorted(data.meta["symbol"].unique()) if per_symbol else [])
        sym_col = data.meta["symbol"].to_numpy()
        for symbol in symbols:
            m = np.ones(len(data), bool) if symbol == "ALL" else sym_col == symbol
            if m.sum() == 0:
                continue
            scored = {name: score(p[m], data.y[m], data.times[m], block_hours)
                      for name, p in probs.items()}
            best = max((b for b in BASELINES if b in scored), key=lambda b: scored[b].accuracy)
            best_acc = scored[best].accuracy
            for name, met in scored.items():
                rows.append(EvaluationRow(
                    model_name=name, horizon_h=result.horizon, symbol=symbol, period=period,
                    metrics=met, best_baseline=best, best_baseline_accuracy=best_acc,
                    beats_baseline=bool(name not in BASELINES and met.ci_low > best_acc),
                ))
    return rows


def verdict(row: EvaluationRow) -> str:
    """One sentence: does the model's lower bound beat the best baseline on the same rows?"""
    m = row.metrics
    where = f"{row.period.replace('_', '-')}, {row.horizon_h} h, {row.symbol}"
    if row.beats_baseline:
        return (f"{row.model_name} ({where}): accuracy {m.accuracy:.3f} [{m.ci_low:.3f}, "
                f"{m.ci_high:.3f}]; its lower bound beats the best baseline "
                f"({row.best_baseline} {row.best_baseline_accuracy:.3f}).")
    return (f"{row.model_name} ({where}): accuracy {m.accuracy:.3f} [{m.ci_low:.3f}, "
            f"{m.ci_high:.3f}]; its lower bound does NOT beat the best baseline "
            f"({row.best_baseline} {row.best_baseline_accuracy:.3f}): no demonstrated edge.")


def format_table(rows: Sequence[EvaluationRow], width: int = 80) -> str:
    """The report as fixed-width text, at most ``width`` columns."""
    head = f"{'model':<12}{'h':>3} {'symbol':<9}{'period':<8}{'n':>7} {'acc':>6} {'95% CI':<14}{'brier':>7}{'logloss':>8} {'beat':<4}"
    lines = [head[:width], "-" * min(width, len(head))]
    for r in rows:
        m = r.metrics
        period = "wf" if r.period == "walk_forward" else "holdout"
        beat = "-" if r.is_baseline else ("yes" if r.beats_baseline else "no")
        line = (f"{r.model_name[:11]:<12}{r.horizon_h:>3} {r.symbol[:8]:<9}{period:<8}{m.n:>7} "
                f"{m.accuracy:>6.3f} [{m.ci_low:.3f},{m.ci_high:.3f}]{m.brier:>7.4f}{m.log_loss:>8.4f} {beat:<4}")
        lines.append(line[:width])
    return "\n".join(lines)


def now() -> datetime:
    return datetime.now(UTC)
