"""The fault harness, longer: more recorded data, several rounds of faults, a report as JSON.

    python bench/chaos.py                              # the bundled sample, 2 rounds, all faults
    python bench/chaos.py --rounds 3 --seed 42         # repeat a schedule (or CRYPTOLAKE_CHAOS_SEED)
    python bench/chaos.py --faults kafka,redis         # only some fault kinds
    python bench/chaos.py --data ../shared/data/binance/klines_1h --json report.json
    python bench/chaos.py --root /tmp/chaos-root --keep    # reuse / keep the private stack

Runs on a private stack (its own home under ``--root``, its own free ports; the software linked
from the main home), never on the shared one. An undisturbed reference run over the input, then
a chaos run where the stream job, a worker mid-task, Kafka, Trino, PostgreSQL, S3Proxy and Redis
are killed -9 at seeded-random moments, ``--rounds`` times each; then every Bronze, Silver and
Gold table is reconciled against the reference by content hash, and every record Kafka
acknowledged is checked to be in Bronze exactly once (tests/chaos/_chaos.py says how). Prints the
report (80 columns); ``--json`` also writes it as JSON. Exits 1 when anything was lost, doubled
or did not recover.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "chaos"))

import _chaos as chaos  # noqa: E402


def _apply(env: Mapping[str, str]) -> None:
    os.environ.update(env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=chaos.SAMPLE,
        help="recorded files to replay (default: the whole bundled sample)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="faults of each kind, in rounds")
    parser.add_argument(
        "--faults", default=",".join(chaos.FAULT_KINDS), help="comma-separated fault kinds"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="schedule seed (default: CRYPTOLAKE_CHAOS_SEED, else random)",
    )
    parser.add_argument(
        "--gap",
        type=float,
        nargs=2,
        default=(2.0, 30.0),
        metavar=("MIN", "MAX"),
        help="seconds before each fault, drawn uniformly",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="directory of the private stack (default: a fresh scratch one)",
    )
    parser.add_argument("--keep", action="store_true", help="leave the private stack running")
    parser.add_argument("--json", type=Path, default=None, help="write the report here too")
    parser.add_argument(
        "--run-timeout",
        type=float,
        default=7200.0,
        help="seconds one pipeline run may take before it counts as stuck",
    )
    parser.add_argument(
        "--reuse-reference",
        action="store_true",
        help="keep the reference digests under --root and reuse them while the "
        "input and the code (commit + uncommitted changes) are the same",
    )
    args = parser.parse_args(argv)

    from cryptolake.core.settings import default_home

    main_home = Path(os.environ.get("CRYPTOLAKE_HOME") or default_home())
    root = args.root or chaos.scratch("chaos-bench-")
    root.mkdir(parents=True, exist_ok=True)
    data = args.data.expanduser().resolve()
    if data.is_file():
        data = chaos.make_input(root / "input", [data.name], data.parent)
    stack = chaos.open_stack(root, main_home, _apply)
    try:
        cfg = chaos.ChaosConfig(
            data=data,
            seed=chaos.seed_from_env(args.seed),
            rounds=args.rounds,
            faults=tuple(f for f in args.faults.split(",") if f),
            gap_s=tuple(args.gap),
            run_timeout_s=args.run_timeout,
            reference_cache=root / "reference.json" if args.reuse_reference else None,
        )
        print(f"chaos seed {cfg.seed}", flush=True)
        report = chaos.run_chaos(stack, cfg, root / "logs")
    finally:
        if not args.keep:
            stack.down()
            if args.root is None:
                shutil.rmtree(root, ignore_errors=True)
    print(report.table())
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=1, default=str))
    return 0 if report.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
