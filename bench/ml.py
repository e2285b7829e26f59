"""Benchmark of the ML retrain and inference on the shared hourly data (8 coins × ~24 k hours).

    python bench/ml.py                          # /work/shared/data, every coin, full settings
    python bench/ml.py --hours 6000 --horizon 1 # the most recent 6000 hours per coin, 1 h only
    python bench/ml.py --evaluate               # also time the walk-forward evaluation

Measures, in this process, for each horizon: the feature build; each model's final fit on every
row (wall time and the process's peak RSS during the fit, sampled every 50 ms); the ensemble's
weights from out-of-fold predictions; and the inference of one hourly batch — the latest bar of
every coin with the serving models (ensemble and TFT). Native thread pools are held at one thread
(cryptolake.ml.estimators THREADS), as in the workers. Figures depend on the machine's load:
report them with the load average printed at the end.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np


def _rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Peak:
    """The process's peak resident memory while the block runs."""

    def __enter__(self) -> Peak:
        self.start = _rss_mb()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        self.t0 = time.perf_counter()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc: Any) -> None:
        self.seconds = time.perf_counter() - self.t0
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--hours", type=int, default=0, help="most recent hours per coin (0: all)")
    parser.add_argument("--horizon", type=int, action="append", help="1 and/or 24 (default both)")
    parser.add_argument("--fast", action="store_true", help="the fast (demo) settings")
    parser.add_argument("--evaluate", action="store_true", help="also time the walk-forward")
    args = parser.parse_args()

    from cryptolake.core.manager import build_plugin_manager
    from cryptolake.ml.ensemble import StackingEnsemble
    from cryptolake.ml.evaluation import evaluate_horizon, format_table, report_rows
    from cryptolake.ml.features import FEATURE_NAMES, build_dataset, compute_frame, load_csv_dir
    from cryptolake.ml.models import specs_for, window_for
    from cryptolake.ml.training import TrainOptions

    t0 = time.perf_counter()
    candles, fear_greed = load_csv_dir(args.data)
    if args.hours:
        candles = candles.groupby("symbol", group_keys=False).tail(args.hours)
    load_s = time.perf_counter() - t0
    with Peak() as feat:
        frame = compute_frame(candles, fear_greed)
    print(f"data: {candles['symbol'].nunique()} coins, {len(candles)} hourly bars "
          f"({candles['open_time'].min():%Y-%m-%d} .. {candles['open_time'].max():%Y-%m-%d}); "
          f"read {load_s:.1f} s, features {feat.seconds:.1f} s")
    host = build_plugin_manager()
    specs = specs_for(host.models, fast=args.fast)
    window = window_for(args.fast)
    total = 0.0
    for h in args.horizon or [1, 24]:
        data = build_dataset(frame, h, window)
        print(f"\nhorizon {h} h: {len(data)} rows × {len(FEATURE_NAMES)} features, window {window}")
        print(f"{'model':<10}{'fit s':>9}{'peak RSS MB':>13}{'+MB':>8}")
        fitted = {}
        for spec in specs:
            with Peak() as p:
                fitted[spec.name] = spec.fit(data)
            total += p.seconds
            print(f"{spec.name:<10}{p.seconds:>9.1f}{p.peak:>13.0f}{p.peak - p.start:>8.0f}")
        if args.evaluate:
            opts = TrainOptions(fast=args.fast)
            with Peak() as p:
                result = evaluate_horizon(data, specs, opts.eval_settings())
            total += p.seconds
            print(f"{'walk-fwd':<10}{p.seconds:>9.1f}{p.peak:>13.0f}{p.peak - p.start:>8.0f}")
            print(format_table([r for r in report_rows(result, opts.eval_settings().block_hours,
                                                       per_symbol=False)]))
            oof, y = result.ensemble_oof
        else:  # weights from a cheap out-of-fold split: the last fifth predicted by the rest
            cut = int(len(data) * 0.8)
            early, late = data.subset(np.arange(cut)), data.subset(np.arange(cut, len(data)))
            oof = np.column_stack([s.proba(s.fit(early), late) for s in specs if s.member])
            y = late.y
        members = [(s.name, fitted[s.name], s.view) for s in specs if s.member]
        ensemble = StackingEnsemble.from_members(members, oof, y, n_tab=len(FEATURE_NAMES))
        batch = build_dataset(frame, h, window, with_target=False)
        latest = batch.meta.groupby("symbol")["open_time"].transform("max") == batch.meta["open_time"]
        one_hour = batch.subset(np.flatnonzero(latest.to_numpy()))
        t = time.perf_counter()
        ensemble.predict_proba(one_hour.X_seq)
        tft = next(s for s in specs if s.name == "tft")
        tft.proba(fitted["tft"], one_hour)
        infer = time.perf_counter() - t
        print(f"ensemble weights {dict(zip([m[0] for m in members], np.round(ensemble.weights_, 3), strict=False))}")
        print(f"inference of one hourly batch ({len(one_hour)} coins, ensemble + TFT): {infer * 1000:.0f} ms")
    print(f"\ntraining total (final fits{' + walk-forward' if args.evaluate else ''}): {total:.0f} s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
