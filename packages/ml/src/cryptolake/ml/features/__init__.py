"""Features without lookahead, targets at fixed horizons, and the shared design matrix.

See :mod:`cryptolake.ml.features._compute` for the formulas and the gap rules, and docs/ml.md.
"""

from __future__ import annotations

from cryptolake.ml.features._compute import (
    FEAR_GREED_MAX_AGE_DAYS,
    FEATURE_NAMES,
    FEATURES,
    HORIZONS,
    REUSE_FACTOR,
    WARMUP,
    Feature,
    compute_frame,
    feature_rows,
    segment_ids,
    target_columns,
)
from cryptolake.ml.features._dataset import Dataset, build_dataset
from cryptolake.ml.features._sources import GoldSnapshot, load_csv_dir, load_gold

__all__ = [
    "FEAR_GREED_MAX_AGE_DAYS",
    "FEATURES",
    "FEATURE_NAMES",
    "HORIZONS",
    "REUSE_FACTOR",
    "WARMUP",
    "Dataset",
    "Feature",
    "GoldSnapshot",
    "build_dataset",
    "compute_frame",
    "feature_rows",
    "load_csv_dir",
    "load_gold",
    "segment_ids",
    "target_columns",
]
