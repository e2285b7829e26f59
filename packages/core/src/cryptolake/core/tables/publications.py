"""``ops.publications``: what readers of a layer see — one row per publication.

A publication pins the Iceberg snapshot id of every table of a layer. It is one row appended in
one Iceberg commit, so it is atomic: a reader that resolves the latest publication of a layer and
reads each table ``FOR VERSION AS OF`` its pinned snapshot sees the layer either before or after
a publication, never half of one (see ``docs/pipeline.md``, "Publication").
"""

from __future__ import annotations

from cryptolake.core.tables._contract import Column, PartitionField, TableContract

PUBLICATIONS = TableContract(
    namespace="ops",
    name="publications",
    doc="One row per publication of a layer: the snapshot id of each of its tables.",
    columns=(
        Column("publication_id", "string", required=True),
        Column("layer", "string", required=True, doc="silver | gold"),
        Column("namespace", "string", required=True, doc="the namespace whose tables are pinned"),
        Column("published_at", "timestamptz", required=True),
        Column("run_id", "string"),
        Column("tables", "string", required=True,
               doc='JSON object: table name -> snapshot id, e.g. {"fact_price_hourly": 123}'),
        Column("inputs", "string", doc="JSON: what the layer was built from (e.g. the Silver "
               "publication, per-table change watermarks)"),
        Column("previous_id", "string", doc="the publication this one replaces"),
    ),
    partition_by=(PartitionField("published_at", "month"),),
    sort_by=("layer", "published_at"),
    key=("publication_id",),
)

CONTRACTS: tuple[TableContract, ...] = (PUBLICATIONS,)
