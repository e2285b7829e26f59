"""The built-in quality suites: one Soda suite per layer and table.

A suite is a :class:`SodaTableSuite` configured with the logical table it checks
(``silver.ohlcv_1h``, ``gold.market_ohlc``…). Its checks come from :data:`SUITES` when the table
has a hand-written definition, else from the table's contract (row count, duplicates on the
natural key, schema) — so every Bronze table declared in ``cryptolake.core.tables`` gets a suite
without code here.

At run time ``ctx.params["namespace"]`` (or ``config.namespace``) names the namespace actually
audited — the staging schema of write-audit-publish — while results keep the logical table name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, create_model

from cryptolake.core import CheckResult, ConfigError, JobContext
from cryptolake.processing.quality import checks as c

log = logging.getLogger(__name__)


class SodaSuiteConfig(BaseModel):
    """Configuration of one table's suite (``table`` is preset per registered suite)."""

    table: str = Field(description="logical table, e.g. silver.ohlcv_1h")
    namespace: str | None = Field(None, description="audit this namespace instead of the table's")
    max_staleness_hours: float = Field(48.0, description="freshness limit of the newest row")
    gap_tolerance: int = Field(0, description="missing buckets tolerated per table")
    gap_window_days: int | None = Field(
        7,
        description="look for gaps in the last N days of the table only (None: whole history; "
        "the recorded history holds real exchange outages)",
    )
    min_rows: int = Field(1, description="fewest rows the table must hold")
    silver_namespace: str = Field(
        "silver", description="Gold reconciliation: the namespace of the Silver tables Gold is "
        "built from"
    )
    silver_snapshots: dict[str, int] = Field(
        default_factory=dict, description="Gold reconciliation: Silver table -> the snapshot "
        "the build read (its publication); default: the table's head"
    )


@dataclass(frozen=True)
class SuiteSpec:
    layer: str
    table: str
    checks: Callable[[SodaSuiteConfig], list[c.CheckSpec]]
    description: str = ""

    @property
    def identifier(self) -> str:
        return f"{self.layer}.{self.table}"


def _contract_schema(
    identifier: str, only: Sequence[str] | None = None, *, every_column: bool = False
) -> c.CheckSpec:
    """The schema check of a contract: its required columns (``every_column``: all of them, as
    for Gold, whose every column is what the dbt model contract promises)."""
    from cryptolake.core.tables import get_contract

    contract = get_contract(identifier)
    cols = [
        col for col in contract.columns
        if (only and col.name in only) or (not only and (every_column or col.required))
    ]
    return c.schema({col.name: c.TRINO_TYPES.get(col.type, col.type) for col in cols})


def _gold_contract(name: str) -> list[c.CheckSpec]:
    """What every Gold mart gets from its contract: unique on its key, its exact schema."""
    from cryptolake.core.tables import get_contract

    contract = get_contract(f"gold.{name}")
    return [c.duplicates(list(contract.key)), _contract_schema(f"gold.{name}", every_column=True)]


def _silver_relation(cfg: SodaSuiteConfig, table: str) -> str:
    snap = cfg.silver_snapshots.get(table)
    version = f" FOR VERSION AS OF {int(snap)}" if snap else ""
    return f'"{cfg.silver_namespace}"."{table}"{version}'


def _reconcile_hourly(cfg: SodaSuiteConfig, time_column: str, where: str = "") -> list[c.CheckSpec]:
    """Gold against the Silver hours it was built from (``silver.ohlcv_1h``)."""
    return c.reconcile(
        _silver_relation(cfg, "ohlcv_1h"), ["symbol", "open_time"], ["symbol", time_column],
        where=where,
    )


def _gaps(cfg: SodaSuiteConfig, key: list[str], column: str, unit: str, **kw: Any) -> c.CheckSpec:
    return c.gaps(key, column, unit=unit, tolerance=cfg.gap_tolerance,
                  window_days=cfg.gap_window_days, **kw)


def _candles(unit: str) -> Callable[[SodaSuiteConfig], list[c.CheckSpec]]:
    def build(cfg: SodaSuiteConfig) -> list[c.CheckSpec]:
        name = "ohlcv_1h" if unit == "hour" else "ohlcv_1m"
        return [
            c.row_count(cfg.min_rows),
            c.freshness("updated_at", cfg.max_staleness_hours),
            c.duplicates(["symbol", "open_time"]),
            _contract_schema(f"silver.{name}"),
            c.positive(["open", "high", "low", "close"]),
            c.non_negative(["volume"]),
            c.ohlc_consistency(),
            _gaps(cfg, ["symbol"], "open_time", unit),
        ]

    return build


def _silver_market_daily(cfg: SodaSuiteConfig) -> list[c.CheckSpec]:
    return [
        c.row_count(cfg.min_rows),
        c.freshness("updated_at", cfg.max_staleness_hours),
        c.duplicates(["coin_id", "date"]),
        _contract_schema("silver.market_daily"),
        c.positive(["price"]),
        c.non_negative(["market_cap", "total_volume"], name="non_negative_metrics"),
        _gaps(cfg, ["coin_id"], "date", "day"),
    ]


def _silver_fear_greed(cfg: SodaSuiteConfig) -> list[c.CheckSpec]:
    return [
        c.row_count(cfg.min_rows),
        c.freshness("updated_at", cfg.max_staleness_hours),
        c.duplicates(["date"]),
        _contract_schema("silver.fear_greed"),
        c.value_range("value", 0, 100),
        _gaps(cfg, [], "date", "day"),
    ]


def _silver_trades(cfg: SodaSuiteConfig) -> list[c.CheckSpec]:
    return [
        c.row_count(cfg.min_rows),
        c.freshness("updated_at", cfg.max_staleness_hours),
        c.duplicates(["symbol", "agg_trade_id"]),
        _contract_schema("silver.trades"),
        c.positive(["price", "quantity"]),
    ]


def _silver_vwap(cfg: SodaSuiteConfig) -> list[c.CheckSpec]:
    return [
        c.row_count(cfg.min_rows),
        c.freshness("updated_at", cfg.max_staleness_hours),
        c.duplicates(["symbol", "window_start", "window_end"]),
        _contract_schema("silver.vwap"),
        c.positive(["vwap"], name="positive_vwap"),
        c.non_negative(["volume"]),
    ]


def _silver_anomalies(cfg: SodaSuiteConfig) -> list[c.CheckSpec]:
    return [
        c.row_count(0),  # no anomaly is a valid state
        c.duplicates(["symbol", "interval", "open_time"]),
        _contract_schema("silver.anomalies"),
    ]


def _gold_fact_price_hourly(cfg: SodaSuiteConfig) -> list[c.CheckSpec]:
    return [
        c.row_count(cfg.min_rows),
        c.freshness("loaded_at", cfg.max_staleness_hours),
        *_gold_contract("fact_price_hourly"),
        c.positive(["open", "high", "low", "close"]),
        c.non_negative(["volume"]),
        c.ohlc_consistency(),
        _gaps(cfg, ["symbol"], "open_time", "hour"),
        *_reconcile_hourly(cfg, "open_time"),
    ]


def _gold_market_ohlc(cfg: SodaSuiteConfig) -> list[c.CheckSpec]:
    return [
        c.row_count(cfg.min_rows),
        c.freshness("loaded_at", cfg.max_staleness_hours),
        *_gold_contract("market_ohlc"),
        c.positive(["open", "high", "low", "close"]),
        c.ohlc_consistency(),
        c.value_range("bar_count", 1, 24),
        _gaps(cfg, ["symbol"], "bucket_start", "day",
               where="timeframe = '1d'"),
        *_reconcile_hourly(cfg, "bucket_start", where="timeframe = '1h'"),
    ]


def _gold_fact_market_daily(cfg: SodaSuiteConfig) -> list[c.CheckSpec]:
    return [
        c.row_count(cfg.min_rows),
        c.freshness("loaded_at", cfg.max_staleness_hours),
        *_gold_contract("fact_market_daily"),
        c.positive(["price"]),
        c.non_negative(["market_cap", "total_volume", "volatility_7d"],
                       name="non_negative_metrics"),
        c.value_range("fear_greed_value", 0, 100),
        _gaps(cfg, ["symbol"], "date", "day"),
    ]


def _gold_dim_coins(cfg: SodaSuiteConfig) -> list[c.CheckSpec]:
    return [
        c.row_count(cfg.min_rows),
        *_gold_contract("dim_coins"),
        c.not_null("symbol"),
    ]


def _gold_dim_dates(cfg: SodaSuiteConfig) -> list[c.CheckSpec]:
    return [
        c.row_count(cfg.min_rows),
        *_gold_contract("dim_dates"),
        c.gaps([], "date_day", unit="day"),  # a calendar has no holes, ever
    ]


SUITES: dict[str, SuiteSpec] = {
    s.identifier: s
    for s in (
        SuiteSpec("silver", "ohlcv_1h", _candles("hour"), "hourly candles"),
        SuiteSpec("silver", "ohlcv_1m", _candles("minute"), "one-minute candles"),
        SuiteSpec("silver", "market_daily", _silver_market_daily, "CoinGecko daily metrics"),
        SuiteSpec("silver", "fear_greed", _silver_fear_greed, "Fear & Greed index"),
        SuiteSpec("silver", "trades", _silver_trades, "aggregate trades"),
        SuiteSpec("silver", "vwap", _silver_vwap, "sliding-window VWAP"),
        SuiteSpec("silver", "anomalies", _silver_anomalies, "return anomalies"),
        SuiteSpec("gold", "fact_price_hourly", _gold_fact_price_hourly, "hourly price facts"),
        SuiteSpec("gold", "market_ohlc", _gold_market_ohlc, "multi-timeframe candles"),
        SuiteSpec("gold", "fact_market_daily", _gold_fact_market_daily, "daily market facts"),
        SuiteSpec("gold", "dim_coins", _gold_dim_coins, "coin dimension"),
        SuiteSpec("gold", "dim_dates", _gold_dim_dates, "date dimension"),
    )
}


def contract_checks(identifier: str, cfg: SodaSuiteConfig) -> list[c.CheckSpec]:
    """Checks any table with a contract gets: row count, duplicates on its key, its schema.

    The row count is recorded but not enforced (only a hand-written suite knows whether a table
    such as a dead-letter table may be empty).
    """

    specs = [c.row_count(0), _contract_schema(identifier)]
    key = duplicate_key(identifier)
    if key:
        specs.append(c.duplicates(key))
    return specs


#: The column an append-only table adds to its natural key: the same record may be stored once
#: per distinct payload (Bronze keeps every version a source sent; a replay of two files that
#: overlap stores each hour once per distinct payload).
PAYLOAD_HASH = "payload_sha256"


def duplicate_key(identifier: str) -> list[str]:
    """What a row must be unique on: the natural key, plus the payload hash where the table is
    append-only (every Bronze feed carries ``payload_sha256``)."""
    from cryptolake.core.tables import get_contract

    contract = get_contract(identifier)
    key = list(contract.key)
    if key and PAYLOAD_HASH in contract.column_names and PAYLOAD_HASH not in key:
        key.append(PAYLOAD_HASH)
    return key


def checks_for(cfg: SodaSuiteConfig) -> list[c.CheckSpec]:
    spec = SUITES.get(cfg.table)
    return spec.checks(cfg) if spec else contract_checks(cfg.table, cfg)


def config_model_for(identifier: str) -> type[SodaSuiteConfig]:
    """A config model whose ``table`` defaults to ``identifier`` (one per registered suite)."""
    model_name = "SodaSuiteConfig_" + identifier.replace(".", "_")
    return create_model(model_name, __base__=SodaSuiteConfig, table=(str, identifier))


def _with_published_silver(
    ctx: JobContext, config: SodaSuiteConfig, namespace: str
) -> SodaSuiteConfig:
    """Gold audited on its own (``quality run --layer gold``): reconcile it with the Silver
    snapshots its latest publication was built from, not with Silver's head (which may hold
    changes the next build has not read yet)."""
    from cryptolake.core.pipeline import latest_publication

    try:
        pub = latest_publication(ctx.settings, "gold", namespace,
                                 ops_namespace=(ctx.params or {}).get("ops_namespace"))
    except Exception as exc:  # no ops.publications yet
        log.debug("no gold publication for %s: %s", namespace, exc)
        return config
    if pub is None:
        return config
    pins = {k: int(v) for k, v in (pub.inputs.get("silver_snapshots") or {}).items() if v}
    silver = pub.inputs.get("silver_schema") or config.silver_namespace
    return config.model_copy(update={"silver_snapshots": pins, "silver_namespace": silver})


class SodaTableSuite:
    """Runs one table's SodaCL checks on Trino; implements :class:`cryptolake.core.QualitySuite`."""

    def __init__(self, config: BaseModel) -> None:
        if not isinstance(config, SodaSuiteConfig):
            config = SodaSuiteConfig.model_validate(config.model_dump())
        if "." not in config.table:
            raise ConfigError(f"quality suite table {config.table!r} must read 'layer.table'")
        self.config = config

    @property
    def layer(self) -> str:
        return self.config.table.split(".", 1)[0]

    @property
    def table_name(self) -> str:
        return self.config.table.split(".", 1)[1]

    def sodacl(self) -> str:
        return c.render_suite(self.table_name, checks_for(self.config))

    def run(self, ctx: JobContext) -> Sequence[CheckResult]:
        from cryptolake.processing.quality._soda import run_sodacl
        from cryptolake.processing.quality.results import current_snapshot, table_exists

        params: dict[str, Any] = ctx.params or {}
        namespace = params.get("namespace") or self.config.namespace or self.layer
        if not table_exists(ctx.settings, namespace, self.table_name):
            return [
                CheckResult(
                    check="exists",
                    table=self.config.table,
                    outcome="warn",
                    message=f"{namespace}.{self.table_name} does not exist (yet); nothing to check",
                )
            ]
        config = self.config
        if self.layer == "gold" and not config.silver_snapshots:
            config = _with_published_silver(ctx, config, namespace)
        specs = checks_for(config)
        snapshot = current_snapshot(ctx.settings, namespace, self.table_name)
        outcomes = run_sodacl(
            ctx.settings,
            namespace,
            c.render_suite(self.table_name, specs),
            expected=[s.name for s in specs],
            scan_name=f"{self.config.table}@{namespace}",
        )
        audited = f"{namespace}.{self.table_name}"
        where = "" if audited == self.config.table else f" (audited {audited})"
        return [
            CheckResult(
                check=o.name,
                table=self.config.table,
                outcome=o.outcome,
                value=o.value,
                snapshot_id=snapshot,
                message=o.message + where,
            )
            for o in outcomes
        ]
