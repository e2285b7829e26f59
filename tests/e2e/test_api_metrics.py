"""The API's Prometheus /metrics moves with the operations it answers.

(The worker's and beat's endpoints: tests/integration/test_workers.py; the stream job's:
packages/processing/tests/integration/test_stream_metrics_scrape.py.)
"""

from __future__ import annotations

import pytest
from _api import Api

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.installed]


def _scrape(api: Api) -> dict[str, float]:
    import httpx

    r = httpx.get(api.url + "/metrics", timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out = {}
    for line in r.text.splitlines():
        if line.startswith("cryptolake_"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def _sum(series: dict[str, float], prefix: str) -> float:
    return sum(v for k, v in series.items() if k.startswith(prefix))


def test_an_operation_moves_the_request_latency_and_read_series(api: Api) -> None:
    before = _scrape(api)
    for _ in range(2):
        api.data("query MetricsProbe { fearGreed(first: 3) { nodes { date value } } }")
    after = _scrape(api)
    ok = 'cryptolake_api_requests_total{operation="MetricsProbe",outcome="ok"}'
    assert after[ok] - before.get(ok, 0) == 2
    seconds = 'cryptolake_api_request_seconds_count{operation="MetricsProbe"}'
    assert after[seconds] - before.get(seconds, 0) == 2
    # each answer came from Trino or the read cache: the reads moved
    reads = lambda m: _sum(m, "cryptolake_api_trino_seconds_count") + _sum(  # noqa: E731
        m, "cryptolake_api_cache_total")
    assert reads(after) > reads(before)
