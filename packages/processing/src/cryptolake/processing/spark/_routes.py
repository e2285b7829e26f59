"""Which Kafka topic lands in which Bronze table, and how a record fills that table's columns.

The value of a Kafka record is the exchange's JSON payload with every field (an ``aggTrade`` or a
``kline`` websocket event), its key the symbol. A route maps the payload's fields onto the Bronze
contract (``cryptolake.core.tables.bronze``) and fills the ingestion metadata: ``source`` (the
record's ``source`` header, else ``bronze.binance_stream``), ``layout`` (header, else
``binance_ws``), ``origin`` (header, else ``topic/partition/offset``),
``ingested_at`` (the Kafka timestamp), ``kafka_*``, ``payload`` (the value, verbatim) and
``payload_sha256``. Every contract column must be filled by the route or be optional; a contract
that gains a required column nothing fills fails at start-up, naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptolake.core.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import Column

    from cryptolake.core.tables import TableContract

AGGTRADE_SCHEMA = (
    "e STRING, E BIGINT, s STRING, a BIGINT, p STRING, q STRING, f BIGINT, l BIGINT, T BIGINT, "
    "m BOOLEAN, M BOOLEAN"
)
KLINE_SCHEMA = (
    "e STRING, E BIGINT, s STRING, k STRUCT<t: BIGINT, T: BIGINT, s: STRING, i: STRING, "
    "f: BIGINT, L: BIGINT, o: STRING, c: STRING, h: STRING, l: STRING, v: STRING, n: BIGINT, "
    "x: BOOLEAN, q: STRING, V: STRING, Q: STRING, B: STRING>"
)

#: Bronze column -> (payload path, epoch milliseconds?)
AGGTRADE_FIELDS: dict[str, tuple[str, bool]] = {
    "symbol": ("s", False),
    "agg_trade_id": ("a", False),
    "price": ("p", False),
    "quantity": ("q", False),
    "first_trade_id": ("f", False),
    "last_trade_id": ("l", False),
    "trade_time": ("T", True),
    "event_time": ("E", True),
    "is_buyer_maker": ("m", False),
    "is_best_match": ("M", False),
}
KLINE_FIELDS: dict[str, tuple[str, bool]] = {
    "symbol": ("s", False),
    "interval": ("k.i", False),
    "open_time": ("k.t", True),
    "close_time": ("k.T", True),
    "open": ("k.o", False),
    "high": ("k.h", False),
    "low": ("k.l", False),
    "close": ("k.c", False),
    "volume": ("k.v", False),
    "quote_volume": ("k.q", False),
    "trade_count": ("k.n", False),
    "taker_buy_base_volume": ("k.V", False),
    "taker_buy_quote_volume": ("k.Q", False),
    "first_trade_id": ("k.f", False),
    "last_trade_id": ("k.L", False),
    "is_closed": ("k.x", False),
    "event_time": ("E", True),
}


@dataclass(frozen=True)
class Route:
    topic: str  #: without the configured prefix
    table: str  #: Bronze table name, without namespace
    layout: str
    schema: str
    fields: dict[str, tuple[str, bool]]
    #: payload fields a valid record must carry
    required: tuple[str, ...]


_KLINE_REQUIRED = ("s", "k.t", "k.i", "k.o", "k.h", "k.l", "k.c", "k.v")
LAYOUT_WS = "binance_ws"  # the ingest sources' layout of a websocket event / Kafka value
DEFAULT_ROUTES: tuple[Route, ...] = (
    Route("binance.aggtrade", "binance_agg_trades", LAYOUT_WS, AGGTRADE_SCHEMA,
          AGGTRADE_FIELDS, ("s", "a", "p", "q", "T")),
    *(
        Route(f"binance.kline_{i}", "binance_klines", LAYOUT_WS, KLINE_SCHEMA, KLINE_FIELDS,
              _KLINE_REQUIRED)
        for i in ("1m", "1h", "1d")
    ),
)


STREAM_SOURCE = "bronze.binance_stream"


def payload(path: str) -> Column:
    from pyspark.sql import functions as F

    return F.col("_p." + ".".join(f"`{part}`" for part in path.split(".")))


def header(name: str) -> Column:
    """The first Kafka header called ``name``, as a string (null when absent)."""
    from pyspark.sql import functions as F

    matching = F.filter(F.col("headers"), lambda h: h["key"] == F.lit(name))
    return F.try_element_at(matching, F.lit(1))["value"].cast("string")


def origin() -> Column:
    from pyspark.sql import functions as F

    return F.concat_ws("/", F.col("topic"), F.col("partition").cast("string"),
                       F.col("offset").cast("string"))


#: Columns filled from the Kafka record itself (not the payload).
METADATA_COLUMNS = frozenset({"source", "layout", "origin", "ingested_at", "kafka_topic",
                              "kafka_partition", "kafka_offset", "payload", "payload_sha256"})


def unfilled_required(route: Route, contract: TableContract) -> list[str]:
    """Required columns of ``contract`` that nothing of ``route`` fills (should be none)."""
    return [c.name for c in contract.columns
            if c.required and c.name not in METADATA_COLUMNS and c.name not in route.fields]


def column_exprs(route: Route, contract: TableContract) -> list[Column]:
    """One expression per contract column over the parsed Kafka record (``_p`` = payload)."""
    from pyspark.sql import functions as F

    value = F.col("value").cast("string")
    meta: dict[str, Column] = {
        "source": F.coalesce(header("source"), F.lit(STREAM_SOURCE)),
        "layout": F.coalesce(header("layout"), F.lit(route.layout)),
        "origin": F.coalesce(header("origin"), origin()),
        "ingested_at": F.col("timestamp"),
        "kafka_topic": F.col("topic"),
        "kafka_partition": F.col("partition"),
        "kafka_offset": F.col("offset"),
        "payload": value,
        "payload_sha256": F.sha2(value, 256),
    }
    unfilled = unfilled_required(route, contract)
    if unfilled:
        raise ConfigError(
            f"Bronze table {contract.identifier}: nothing in topic {route.topic!r} fills the "
            f"required column(s) {unfilled}; extend cryptolake.processing.spark._routes"
        )
    assert set(meta) == METADATA_COLUMNS
    exprs = []
    for col in contract.columns:
        if col.name in meta:
            expr = meta[col.name]
        elif col.name in route.fields:
            path, millis = route.fields[col.name]
            expr = payload(path)
            if millis:
                expr = F.timestamp_millis(expr)
        else:
            expr = F.lit(None)
        exprs.append(expr.cast(col.spark_type()).alias(col.name))
    return exprs


#: payload fields that are decimal strings: a record whose value does not parse is rejected
DECIMAL_FIELDS = frozenset({"p", "q", "k.o", "k.h", "k.l", "k.c", "k.v", "k.q"})


def _present(path: str) -> Column:
    value = payload(path)
    if path in DECIMAL_FIELDS:
        return value.cast("decimal(38,18)").isNotNull()
    return value.isNotNull()


def valid_condition(route: Route) -> Column:
    cond = _present(route.required[0])
    for path in route.required[1:]:
        cond = cond & _present(path)
    return cond


def rejection_reason(route: Route) -> Column:
    """Why a record of ``route`` is invalid, naming the first missing or malformed field."""
    from pyspark.sql import functions as F

    reason = F.lit(None).cast("string")
    for path in reversed(route.required):
        reason = F.when(
            ~_present(path),
            F.lit(f"{route.layout}: field {path!r} is missing or malformed"),
        ).otherwise(reason)
    unparsable = F.get_json_object(F.col("value").cast("string"), "$").isNull()
    return F.when(unparsable, F.lit(f"{route.layout}: unparsable JSON")).otherwise(reason)
