# ruff: noqa: F811 - the fixtures imported from _web are redefined as test parameters
"""The web app in a real browser over the real stack and API (headless Debian Chromium).

Every figure a test expects comes from the API's own answer to the same question, run through
the app's formatting rules (``cryptolake.web.format``, unit-tested on its own) — never from
constants. The web app and its API process start once per session (tests/e2e/_web.py); a
screenshot of every page goes under the test run's output folder.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from _web import (  # noqa: F401 - fixtures
    CLI,
    Api,
    Web,
    browser,
    figures,
    shots,
    traces,
    wait_loaded,
    web_api,
    web_app,
    web_data,
)

from cryptolake.web import format as fmt
from cryptolake.web.figures import INTERVALS, normalise_candles, recent

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.installed]

KEEP = 200  # candles a chart holds (the API's anonymous page size)


@pytest.fixture
def page(browser: Any) -> Any:
    p = browser.new_page()
    yield p
    p.close()


def visit(page: Any, web: Web, path: str, shots: Path, figures: dict[str, Any], name: str,
          chart: str | None = None) -> float:
    """Open ``path``, wait for its data (and the first chart with points), screenshot it, and
    record the warm load-to-first-chart time (the second of two visits)."""
    took = 0.0
    for _ in range(2):
        t0 = time.monotonic()
        page.goto(web.url + path)
        wait_loaded(page)
        if chart:
            page.wait_for_function(
                "(id) => { const el = document.querySelector('#' + id + ' .js-plotly-plot');"
                " return el && el.data && el.data.some(t => (t.x || t.value !== undefined) &&"
                " ((t.x || []).length > 0 || t.type === 'indicator')); }", arg=chart, timeout=60_000)
        took = time.monotonic() - t0
    figures.setdefault("page_load_to_first_chart_s", {})[name] = round(took, 2)
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    return took


def cell(page: Any, row_id: str, field: str) -> str:
    return str(page.locator(f'[id="{row_id}"] .c-{field}').inner_text()).strip()


def api_candles(api: Api, symbol: str, interval: str, first: int = KEEP) -> list[dict[str, Any]]:
    data = api.gql("""query($s: String!, $i: String!, $n: Int!) {
        candles(symbol: $s, interval: $i, first: $n, orderBy: DESC) {
          nodes { openTime open high low close volume final } } }""",
                   {"s": symbol, "i": interval, "n": first})
    return recent(normalise_candles(data["candles"]["nodes"]), INTERVALS[interval], first)


# ------------------------------------------------------------------------------- every page
def test_market_overview_shows_the_api_figures(page: Any, web_app: Web, web_api: Api,
                                               shots: Path, figures: dict[str, Any]) -> None:
    visit(page, web_app, "/", shots, figures, "market", chart="chart-market")
    overview = web_api.gql("{ marketOverview { symbol price change24h volume24h high24h low24h "
                           "latestTime } }")["marketOverview"]
    assert overview, "the API has no market overview"
    for r in overview:
        row = f"overview-{r['symbol']}"
        assert cell(page, row, "price") == fmt.price(r["price"])
        assert cell(page, row, "change") == fmt.percent(r["change24h"], fraction=True)
        assert cell(page, row, "volume") == fmt.thousands(r["volume24h"], 2)
        assert cell(page, row, "high") == fmt.price(r["high24h"])
        assert cell(page, row, "time") == fmt.utc(r["latestTime"])
    want = api_candles(web_api, "BTCUSDT", "1h", 120)
    candles = next(t for t in traces(page, "chart-market") if t["name"] == "Candles")
    assert candles["n"] == len(want) > 0
    assert candles["last_x"] == want[-1]["time"] and candles["last_close"] == want[-1]["close"]


def test_charts_show_the_api_candles(page: Any, web_app: Web, web_api: Api, shots: Path,
                                     figures: dict[str, Any]) -> None:
    visit(page, web_app, "/charts", shots, figures, "charts", chart="chart-candles")
    want = api_candles(web_api, "BTCUSDT", "1h")
    assert page.locator("#candle-count").inner_text() == str(len(want))
    candles = next(t for t in traces(page, "chart-candles") if t["name"] == "Candles")
    assert candles["x"] == [c["time"] for c in want]
    assert candles["close"] == [c["close"] for c in want]


def test_compare_shows_the_api_figures(page: Any, web_app: Web, web_api: Api, shots: Path,
                                       figures: dict[str, Any]) -> None:
    visit(page, web_app, "/compare", shots, figures, "compare", chart="chart-compare")
    chosen = compared_by_default(web_api)
    assert chosen
    for sym in chosen:
        days = web_api.gql("""query($s: String!) { marketDaily(symbol: $s, first: 1, orderBy: DESC) {
            nodes { date price change1d } } }""", {"s": sym})["marketDaily"]["nodes"]
        assert days, sym
        assert cell(page, f"compare-{sym}", "price") == fmt.price(days[0]["price"])
        assert cell(page, f"compare-{sym}", "change") == fmt.percent(days[0]["change1d"], fraction=True)
    names = {t["name"] for t in traces(page, "chart-compare")}
    assert names == set(chosen)


def compared_by_default(web_api: Api) -> list[str]:
    """The coins Compare shows before the visitor picks: the first three the API lists."""
    listed = [r["symbol"] for r in web_api.gql("{ marketOverview { symbol } }")["marketOverview"]]
    return list(dict.fromkeys(listed))[:3]


def test_fear_greed_shows_the_latest_index(page: Any, web_app: Web, web_api: Api, shots: Path,
                                           figures: dict[str, Any]) -> None:
    visit(page, web_app, "/fear-greed", shots, figures, "fear-greed", chart="chart-fear-greed")
    latest = web_api.gql("{ fearGreed(first: 1, orderBy: DESC) { nodes { date value classification } } }"
                         )["fearGreed"]["nodes"][0]
    assert page.locator("#fg-value").inner_text() == str(latest["value"])
    assert page.locator("#fg-date").inner_text() == fmt.utc(latest["date"], date_only=True)
    assert {t["name"] for t in traces(page, "chart-fear-greed")} == {"Fear & Greed", "Price"}


def test_signals_show_sentiment_per_coin(page: Any, web_app: Web, web_api: Api, shots: Path,
                                         figures: dict[str, Any]) -> None:
    visit(page, web_app, "/signals", shots, figures, "signals")
    symbols = sorted(r["symbol"] for r in web_api.gql("{ marketOverview { symbol } }")["marketOverview"])
    page.wait_for_function("(n) => document.querySelectorAll('#signals tbody tr').length === n",
                           arg=len(symbols), timeout=60_000)
    for sym in symbols:
        days = web_api.gql("""query($s: String!) { marketDaily(symbol: $s, first: 1, orderBy: DESC) {
            nodes { fearGreedValue fearGreedClass change1d } } }""", {"s": sym})["marketDaily"]["nodes"]
        day = days[0] if days else {}
        want = (f"{day['fearGreedValue']} {day['fearGreedClass']}"
                if day.get("fearGreedValue") is not None else fmt.MISSING)
        assert cell(page, f"signals-{sym}", "sentiment") == want, sym


def test_data_and_system_shows_data_health(page: Any, web_app: Web, web_api: Api, shots: Path,
                                           figures: dict[str, Any]) -> None:
    visit(page, web_app, "/system", shots, figures, "system")
    health = web_api.gql("{ dataHealth { trustworthy failingChecks tables { table rows "
                         "lastSnapshotId qualityStatus } } }")["dataHealth"]
    assert page.locator("#trustworthy").inner_text() == {True: "yes", False: "no"}[health["trustworthy"]]
    assert page.locator("#failing-total").inner_text() == str(health["failingChecks"])
    for t in health["tables"]:
        assert cell(page, f"health-{t['table']}", "rows") == fmt.thousands(t["rows"]), t["table"]
        assert cell(page, f"health-{t['table']}", "quality") == t["qualityStatus"], t["table"]
    runs = web_api.gql("{ pipelineRuns(first: 10) { nodes { runId status } } }")["pipelineRuns"]["nodes"]
    for r in runs[:3]:
        assert cell(page, f"runs-{r['runId']}", "status") == r["status"]


def test_model_lab_shows_every_evaluation(page: Any, web_app: Web, web_api: Api, shots: Path,
                                          figures: dict[str, Any]) -> None:
    visit(page, web_app, "/models", shots, figures, "models")
    evals = web_api.gql("{ modelComparison { modelName accuracy } }")["modelComparison"]
    if not evals:  # nothing trained: the page says so instead of drawing empty charts
        assert "No models trained yet" in page.locator("#no-models").inner_text()
        assert page.locator("#chart-calibration").count() == 0
        return
    assert page.locator("#no-models").count() == 0
    assert page.locator("#comparison tbody tr").count() == len(evals)
    for e, row in zip(evals, page.locator("#comparison tbody tr").all(), strict=True):
        assert row.locator(".c-model").inner_text() == e["modelName"]
        assert row.locator(".c-accuracy").inner_text() == fmt.percent(e["accuracy"], fraction=True,
                                                                       signed=False)
    state = web_api.gql("{ retrainStatus { state } }")["retrainStatus"]["state"]
    assert page.locator("#retrain-state").inner_text().startswith(state)


# ------------------------------------------------------------------------------ interactions
def test_overlay_toggle_adds_and_removes_its_trace(page: Any, web_app: Web) -> None:
    page.goto(web_app.url + "/charts")
    wait_loaded(page)

    def names() -> set[str]:
        return {t["name"] for t in traces(page, "chart-candles")}

    before = names()
    on = "Bollinger upper" not in before
    page.click("#overlay-bollinger")
    page.wait_for_function("(on) => { const el = document.querySelector('#chart-candles .js-plotly-plot');"
                           " return el && el.data.some(t => t.name === 'Bollinger upper') === on; }",
                           arg=on, timeout=20_000)
    assert ({"Bollinger upper", "Bollinger lower"} <= names()) is on
    page.click("#overlay-bollinger")
    page.wait_for_function("(on) => { const el = document.querySelector('#chart-candles .js-plotly-plot');"
                           " return el.data.some(t => t.name === 'Bollinger upper') === on; }",
                           arg=not on, timeout=20_000)
    assert names() == before


def test_interval_change_changes_the_candles_and_persists(page: Any, web_app: Web, web_api: Api) -> None:
    page.goto(web_app.url + "/charts")
    wait_loaded(page)
    page.click("#interval-1d")
    want = api_candles(web_api, "BTCUSDT", "1d")
    page.wait_for_function("(t) => document.querySelector('#last-candle').innerText === t",
                           arg=want[-1]["time"], timeout=60_000)
    candles = next(t for t in traces(page, "chart-candles") if t["name"] == "Candles")
    assert candles["x"] == [c["time"] for c in want]
    hourly = api_candles(web_api, "BTCUSDT", "1h")
    assert candles["x"] != [c["time"] for c in hourly]
    # the choice is kept in the browser: a reload opens on 1d again
    page.reload()
    wait_loaded(page)
    page.wait_for_function("(t) => document.querySelector('#last-candle').innerText === t",
                           arg=want[-1]["time"], timeout=60_000)
    page.click("#interval-1h")
    page.wait_for_function("(t) => document.querySelector('#last-candle').innerText === t",
                           arg=hourly[-1]["time"], timeout=60_000)


def _produce_kline(api: Api, symbol: str, open_ms: int, close: float) -> None:
    from confluent_kafka import Producer

    from cryptolake.core.clients import producer_config
    from cryptolake.core.settings import get_settings

    settings = get_settings()
    topic = api.prefix + "binance.kline_1m"  # the private prefix of this session's API
    now_ms = int(time.time() * 1000)
    msg = {"e": "kline", "E": now_ms, "s": symbol, "k": {
        "t": open_ms, "T": open_ms + 59_999, "s": symbol, "i": "1m", "o": str(close), "h": str(close),
        "l": str(close), "c": str(close), "v": "1.5", "q": str(close * 1.5), "n": 3, "x": False}}
    producer = Producer(producer_config(settings))
    producer.produce(topic, key=symbol.encode(), value=json.dumps(msg).encode())
    assert producer.flush(30) == 0


def test_a_kline_on_kafka_appears_on_the_chart_without_reload(
        page: Any, web_app: Web, web_api: Api, shots: Path, figures: dict[str, Any]) -> None:
    page.goto(web_app.url + "/charts")
    wait_loaded(page)
    page.click("#interval-1m")
    page.wait_for_function("() => document.querySelector('#live-status').innerText === 'live: live 1m'",
                           timeout=60_000)
    latencies = []
    minute = int(time.time()) // 60 * 60
    for i, close in enumerate((4321.5, 4322.25, 4323.75)):
        open_ms = (minute + 60 * i) * 1000
        t0 = time.monotonic()
        _produce_kline(web_api, "BTCUSDT", open_ms, close)
        iso = datetime.fromtimestamp(open_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        page.wait_for_function(
            """([x, c]) => { const el = document.querySelector('#chart-candles .js-plotly-plot');
                 const t = el && el.data.find(t => t.name === 'Candles');
                 if (!t) return false; const i = t.x.indexOf(x); return i >= 0 && t.close[i] === c; }""",
            arg=[iso, close], timeout=20_000, polling=50)
        latencies.append(time.monotonic() - t0)
    page.screenshot(path=str(shots / "charts-live.png"), full_page=True)
    figures["kafka_to_chart_s"] = [round(x, 3) for x in latencies]
    assert max(latencies) < 10
    page.click("#interval-1h")


def _append_alert(alert_id: str) -> None:
    import pyarrow as pa

    from cryptolake.core.clients.catalog import load_catalog
    from cryptolake.core.tables import ensure_table
    from cryptolake.core.tables.ops import ALERTS

    table = ensure_table(load_catalog(), ALERTS)  # created by the first alert ever raised
    row = {"alert_id": alert_id, "run_id": None, "kind": "e2e", "severity": "info",
           "subject": "web as-of probe", "message": "raised by tests/e2e/test_web.py",
           "raised_at": datetime.now(UTC)}
    table.append(pa.Table.from_pylist([row], schema=ALERTS.arrow_schema()))


@pytest.fixture(scope="module")
def operator_key(web_api: Api) -> Any:
    out = subprocess.run([*CLI, "api", "keys", "create", "--role", "operator", "--name", "e2e-web"],
                         capture_output=True, text=True, check=True, env=web_api.env)
    key = out.stdout.strip().splitlines()[-1]
    yield key
    subprocess.run([*CLI, "api", "keys", "revoke", key.split("_")[1]], capture_output=True,
                   env=web_api.env, check=False)


def test_as_of_shows_the_earlier_state_and_an_alert_is_acknowledged(
        page: Any, web_app: Web, operator_key: str, shots: Path) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    time.sleep(2)
    alert_id = f"e2e-web-{uuid.uuid4().hex[:10]}"
    _append_alert(alert_id)  # a new commit of ops.alerts
    row = page.locator(f'[id="alert-{alert_id}"]')
    page.goto(web_app.url + "/system")
    wait_loaded(page)
    row.wait_for(timeout=30_000)
    assert row.locator(".c-acknowledged").inner_text() == "no"
    # as of a time before the commit: the alert is not there yet
    page.fill("#asof-input", before.strftime("%Y-%m-%d %H:%M:%S"))
    page.click("#asof-apply")
    page.wait_for_function("(t) => document.querySelector('#asof-label').innerText === t",
                           arg=fmt.utc(before.replace(microsecond=0), seconds=True), timeout=30_000)
    wait_loaded(page)
    page.wait_for_function("(id) => !document.getElementById('alert-' + id)", arg=alert_id, timeout=30_000)
    page.screenshot(path=str(shots / "system-as-of.png"), full_page=True)
    # back to now, then acknowledge it with an operator key
    page.click("#asof-now")
    row.wait_for(timeout=30_000)
    page.fill("#operator-key", operator_key)
    page.locator("#key-set").wait_for(timeout=10_000)
    row.locator("button").click()
    page.wait_for_function("(id) => { const r = document.getElementById('alert-' + id);"
                           " return r && r.querySelector('.c-acknowledged').innerText === 'yes'; }",
                           arg=alert_id, timeout=30_000)


def test_api_down_shows_the_banner_and_the_page_recovers(page: Any, web_app: Web, web_api: Api,
                                                         shots: Path, figures: dict[str, Any]) -> None:
    web_api.stop()
    try:
        page.goto(web_app.url + "/compare")
        page.locator("#banner-unreachable").wait_for(timeout=30_000)
        page.screenshot(path=str(shots / "compare-api-down.png"), full_page=True)
    finally:
        figures["api_restart_s"] = round(web_api.start(), 1)
    t0 = time.monotonic()
    page.locator("#banner-unreachable").wait_for(state="detached", timeout=60_000)
    page.locator(f'[id="compare-{compared_by_default(web_api)[0]}"]').wait_for(timeout=60_000)
    figures["banner_recovery_s"] = round(time.monotonic() - t0, 2)
