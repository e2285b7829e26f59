"""Benchmark of the orchestration: the daily pipeline and ``make demo``, with the machine's memory.

    python bench/pipeline.py                 # pipeline in-process and on the workers, warm demo
    python bench/pipeline.py --skip-demo     # only the two pipeline runs
    python bench/pipeline.py --data ../shared/data            # growth: 1/4, 1/2, all + a new day
    python bench/pipeline.py --data ../shared/data --json     # the same figures as JSON
    python bench/pipeline.py --data ../shared/data --fractions 1 --no-incremental
    python bench/pipeline.py --data ../shared/data --save run.json   # then: --show run.json
    python bench/pipeline.py --data ../shared/data --until replay.recorded --no-incremental

Runs, on the running stack (``cryptolake stack up``), each with the machine's peak used memory
sampled every 0.2 s from /proc/meminfo:

1. the daily pipeline over the bundled sample, in this process's CLI (``--force``) — the
   baseline;
2. the same pipeline on the Celery workers (``--via-workers --force``), and the ratio to 1.;
3. ``make demo`` warm (everything installed and running, the window already processed).

Prints a table of wall times, per-step times from ``ops.pipeline_runs`` and memory peaks. A cold
demo (fresh cache: ~800 MB of downloads) is not run here.

With ``--data DIR`` it measures instead how the daily pipeline's cost grows with the data (see
:mod:`_growth`): the daily pipeline's steps over ¼, ½ and all of ``DIR``, each in private
namespaces and topics, per step rows in / out, seconds and rows/s; then one new day on top of
the full load, with the ratio new-day / full-load per step; and, beside the replay step of each
run, a bare confluent-kafka producer sending the same records.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "cryptolake.core.cli"]


def _used_mb() -> float:
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, value = line.split(":", 1)
        info[key] = int(value.split()[0])
    return (info["MemTotal"] - info["MemAvailable"]) / 1024


class MemoryPeak:
    def __init__(self) -> None:
        self.peak = self.start = _used_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, _used_mb())

    def __enter__(self) -> MemoryPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _timed(cmd: list[str], cwd: Path = ROOT) -> tuple[float, MemoryPeak, str]:
    with MemoryPeak() as mem:
        t0 = time.perf_counter()
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return seconds, mem, out.stderr + out.stdout


def _steps(output: str) -> list[tuple[str, float]]:
    found = re.search(r"\brun ([0-9a-f]{12})\b", output)
    if not found:
        return []
    rows = json.loads(subprocess.run([*CLI, "pipeline", "status", found.group(1), "--json"],
                                     capture_output=True, text=True, check=True).stdout)
    out = []
    for r in rows:
        if r["step"] == "*":
            continue
        start = r["started_at"]
        end = r["ended_at"]
        from datetime import datetime

        secs = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
        out.append((r["step"], secs))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--data", type=Path, help="growth mode over this directory of recorded files")
    parser.add_argument("--fractions", default="0.25,0.5,1",
                        help="with --data: the parts of each file's time span to run, ascending")
    parser.add_argument("--no-incremental", action="store_true",
                        help="with --data: no new day on top of the full load")
    parser.add_argument("--json", action="store_true", help="with --data: print JSON only")
    parser.add_argument("--keep", action="store_true", help="with --data: keep the namespaces")
    parser.add_argument("--save", type=Path, help="with --data: also write the JSON report here")
    parser.add_argument("--show", type=Path, help="print a report saved with --save, run nothing")
    parser.add_argument("--until", help="with --data: stop after this step (e.g. replay.recorded)")
    args = parser.parse_args()
    if args.data is not None or args.show is not None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _growth import growth, show

        if args.show is not None:
            show(json.loads(args.show.read_text()), as_json=args.json)
            return
        growth(args.data, [float(f) for f in args.fractions.split(",")],
               incremental=not args.no_incremental, as_json=args.json, keep=args.keep,
               save=args.save, until=args.until)
        return
    results = []
    base_s, base_mem, base_out = _timed([*CLI, "pipeline", "run", "--source", "replay", "--force"])
    results.append(("pipeline, in-process (baseline)", base_s, base_mem))
    work_s, work_mem, work_out = _timed(
        [*CLI, "pipeline", "run", "--source", "replay", "--via-workers", "--force"]
    )
    results.append(("pipeline, on the workers", work_s, work_mem))
    if not args.skip_demo:
        demo_s, demo_mem, _ = _timed(["make", "demo"])
        results.append(("make demo, warm", demo_s, demo_mem))
    print(f"{'run':36} {'wall s':>8} {'peak used MB':>13} {'start MB':>9}")
    for name, secs, mem in results:
        print(f"{name:36} {secs:8.1f} {mem.peak:13.0f} {mem.start:9.0f}")
    print(f"ratio workers / in-process: {work_s / base_s:.2f}")
    print("\nsteps (in-process | workers), seconds:")
    for (step, a), (_, b) in zip(_steps(base_out), _steps(work_out), strict=False):
        print(f"  {step:40} {a:7.1f} {b:7.1f}")


if __name__ == "__main__":
    main()
