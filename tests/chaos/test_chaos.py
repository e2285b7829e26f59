"""Faults on the live path: nothing lost, nothing doubled, every part back (issue 11's harness).

A small real input (tests/chaos/_chaos.py: ``SMALL_INPUT``) goes twice through the live path of
a private stack — replay → Kafka → the supervised stream job → Bronze, then the Silver steps, the
Silver gate, dbt and the Gold gate on the Celery worker: once undisturbed, once while the stream
job, the worker (mid-task), Kafka, Trino, PostgreSQL, S3Proxy and Redis are each killed -9 once,
in a seeded-random order at seeded-random moments (the seed is printed;
``CRYPTOLAKE_CHAOS_SEED`` repeats a schedule). Then every Bronze, Silver and Gold table must
equal the reference by content hash, every payload Kafka acknowledged must be in Bronze once,
and every part of the private stack must be healthy again.

The stack is private (own home, own ports), so the shared stack — and whoever tests against it
meanwhile — is never touched. ``bench/chaos.py`` is the longer version.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import _chaos as chaos
import pytest

pytestmark = pytest.mark.chaos


@pytest.fixture
def chaos_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[chaos.ChaosStack]:
    from cryptolake.core.settings import default_home, get_settings

    main_home = Path(os.environ.get("CRYPTOLAKE_HOME") or default_home())
    if not (main_home / "opt").is_dir():
        pytest.fail(f"no installed stack software in {main_home}/opt: run `cryptolake stack setup`")
    root = chaos.scratch("chaos-")

    def apply(env: Mapping[str, str]) -> None:
        for key, value in env.items():
            monkeypatch.setenv(key, value)

    stack = chaos.open_stack(root, main_home, apply)
    try:
        yield stack
    finally:
        stack.down()
        get_settings.cache_clear()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.timeout(7200)  # two pipeline runs and seven recoveries on 2 loaded cores
def test_every_fault_kind_loses_and_doubles_nothing(
    chaos_stack: chaos.ChaosStack, tmp_path: Path
) -> None:
    seed = chaos.seed_from_env()
    print(f"chaos seed {seed} (CRYPTOLAKE_CHAOS_SEED={seed} repeats this schedule)")
    data = chaos.make_input(tmp_path / "input")
    report = chaos.run_chaos(
        chaos_stack, chaos.ChaosConfig(data=data, seed=seed), tmp_path / "logs"
    )
    print(report.table())
    (tmp_path / "report.json").write_text(json.dumps(report.as_dict(), indent=1, default=str))

    assert sorted(f.kind for f in report.faults) == sorted(chaos.FAULT_KINDS)
    assert [f.kind for f in report.faults if not f.injected] == [], report.table()
    assert [(f.kind, f.error) for f in report.faults if not f.recovered] == [], report.table()
    # the reference built every layer, and the chaos run rebuilt each table exactly
    filled = {t.table.split(".")[0] for t in report.tables if t.reference_rows > 0}
    assert filled == set(chaos.LAYERS), report.table()
    assert [t.table for t in report.tables if not t.equal] == [], report.table()
    assert report.ledger.acked_payloads > 0
    assert report.ledger.lost == [], report.table()
    assert (report.lost, report.doubled) == (0, 0), report.table()
    assert report.healthy_after == [], report.table()
