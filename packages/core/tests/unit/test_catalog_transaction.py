"""``clients.transaction``: the same commits as pyiceberg's own transaction, on a real catalog
(pyiceberg's SQL catalog on SQLite, tables on the local file system)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.expressions import EqualTo

from cryptolake.core.clients import transaction

SCHEMA = pa.schema([("k", pa.string()), ("v", pa.int64())])


@pytest.fixture()
def catalog(tmp_path: Path) -> SqlCatalog:
    cat = SqlCatalog("t", uri=f"sqlite:///{tmp_path}/c.db", warehouse=f"file://{tmp_path}/w")
    cat.create_namespace("n")
    return cat


def _rows(table: object) -> list[tuple[str, int]]:
    data = table.scan().to_arrow().sort_by("k")  # type: ignore[attr-defined]
    return list(zip(data["k"].to_pylist(), data["v"].to_pylist(), strict=True))


def test_overwrites_and_appends_commit_like_pyicebergs_own(catalog: SqlCatalog) -> None:
    ours = catalog.create_table("n.ours", SCHEMA)
    theirs = catalog.create_table("n.theirs", SCHEMA)
    for i in range(12):  # some history, as ops.pipeline_runs has
        row = pa.table({"k": [f"k{i % 4}"], "v": [i]}, schema=SCHEMA)
        with transaction(ours) as tx:
            tx.overwrite(row, overwrite_filter=EqualTo("k", f"k{i % 4}"))  # type: ignore[call-arg, misc]
        theirs.overwrite(row, overwrite_filter=EqualTo("k", f"k{i % 4}"))  # type: ignore[call-arg, misc]
    with transaction(ours) as tx:
        tx.append(pa.table({"k": ["z"], "v": [99]}, schema=SCHEMA))
        tx.append(pa.table({"k": ["y"], "v": [98]}, schema=SCHEMA))  # two changes in one commit
    theirs.append(pa.table({"k": ["z", "y"], "v": [99, 98]}, schema=SCHEMA))
    assert _rows(ours) == _rows(theirs) == [
        ("k0", 8), ("k1", 9), ("k2", 10), ("k3", 11), ("y", 98), ("z", 99)]
    # the table object follows its commits, and the catalog holds the same state
    assert ours.current_snapshot() is not None
    assert catalog.load_table("n.ours").current_snapshot().snapshot_id == (  # type: ignore[union-attr]
        ours.current_snapshot().snapshot_id)  # type: ignore[union-attr]
    assert _rows(catalog.load_table("n.ours")) == _rows(ours)


def test_a_failed_block_commits_nothing(catalog: SqlCatalog) -> None:
    table = catalog.create_table("n.t", SCHEMA)
    table.append(pa.table({"k": ["a"], "v": [1]}, schema=SCHEMA))
    before = table.current_snapshot().snapshot_id  # type: ignore[union-attr]
    with pytest.raises(RuntimeError), transaction(table) as tx:
        tx.overwrite(pa.table({"k": ["a"], "v": [2]}, schema=SCHEMA))
        raise RuntimeError("stop")
    assert catalog.load_table("n.t").current_snapshot().snapshot_id == before  # type: ignore[union-attr]
    assert _rows(catalog.load_table("n.t")) == [("a", 1)]
