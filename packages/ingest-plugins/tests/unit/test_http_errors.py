"""HTTP statuses the REST sources meet: auth refused, rate limited, full-jitter backoff."""

from __future__ import annotations

import os
import statistics
from datetime import UTC, datetime
from typing import Any

import pytest
from standins import CoinGeckoStandin, Fault

from cryptolake.core import ConfigError, TransientError
from cryptolake.ingest.coingecko import client as coingecko_client
from cryptolake.ingest.coingecko import jobs as coingecko_jobs
from cryptolake.ingest.coingecko.config import MarketChartConfig
from cryptolake.ingest.http import AuthRejected, HttpClient


class _Writer:
    """Collects what a job would write (no catalog: these jobs never get that far)."""

    def __init__(self) -> None:
        self.rejects: list[Any] = []
        self.rows: list[Any] = []
        self.outcomes: dict[str, Any] = {}

    def reject(self, rej: Any, **_: Any) -> None:
        self.rejects.append(rej)

    def add(self, rec: Any, **_: Any) -> None:
        self.rows.append(rec)

    def flush(self) -> None:
        pass

    def last_time(self, *a: Any, **k: Any) -> None:
        return None


class _Ctx:
    name = "coingecko.market_chart"
    start = datetime(2024, 1, 1, tzinfo=UTC)
    end = None

    def report(self, *a: Any) -> None:
        pass


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_api_key_fails_the_job_naming_the_setting(
    status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = _Writer()
    monkeypatch.setattr(coingecko_jobs, "open_writer", lambda ctx, ns: writer)
    monkeypatch.setenv("CRYPTOLAKE_COINGECKO__API_KEY", "CG-wrong")
    with CoinGeckoStandin() as server:
        server.fail("/api/v3/coins/", *[Fault(status)] * 20)
        cfg = MarketChartConfig(base_url=server.url + "/api/v3", coins=["bitcoin", "ethereum"])
        job = coingecko_jobs.MarketChart(cfg)
        with pytest.raises(ConfigError, match=f"HTTP {status}.*CRYPTOLAKE_COINGECKO__API_KEY"):
            job.run(_Ctx())  # type: ignore[arg-type]
        assert server.count("/api/v3/coins/") == 1  # no retries, no second coin
    assert writer.rejects == []  # a wrong key is not bad data


def test_a_404_is_still_a_bad_response_not_a_config_error() -> None:
    from cryptolake.ingest.http import MalformedResponse

    with CoinGeckoStandin() as server:
        http = coingecko_client.client(MarketChartConfig(base_url=server.url + "/api/v3"))
        with pytest.raises(MalformedResponse, match="HTTP 404"):
            coingecko_client.market_chart(http, "nosuchcoin", "usd", 3, "daily")


def test_429_is_transient_and_retried_then_raised_as_transient() -> None:
    sleeps: list[float] = []
    with CoinGeckoStandin() as server:
        server.fail("/api/v3/coins/markets", *[Fault(429, retry_after=0.5)] * 4)
        http = HttpClient(server.url + "/api/v3", sleep=sleeps.append, max_retries=3)
        with pytest.raises(TransientError, match="HTTP 429"):
            http.get_json("/coins/markets")
        server.fail("/api/v3/coins/markets", Fault(429))
        assert http.get_json("/coins/markets").data  # one 429, then the answer
    assert sleeps[:4] == [0.5] * 4
    assert not isinstance(TransientError("x"), ConfigError)
    assert issubclass(AuthRejected, ConfigError)


def test_backoff_is_full_jitter_and_seeded_per_client() -> None:
    a = HttpClient("http://127.0.0.1:9", backoff_base_s=1.0, backoff_max_s=8.0)
    b = HttpClient("http://127.0.0.1:9", backoff_base_s=1.0, backoff_max_s=8.0)
    pauses = [a._backoff(3) for _ in range(2000)]  # cap = min(8, 1 * 2**3) = 8
    assert 0 <= min(pauses) < 0.1 and 7.9 < max(pauses) <= 8.0  # the whole [0, cap]
    assert 3.7 < statistics.mean(pauses) < 4.3
    assert [a._backoff(2) for _ in range(5)] != [b._backoff(2) for _ in range(5)]


def test_workers_forked_from_one_parent_do_not_back_off_in_lockstep() -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        seqs = pool.map(_child_pauses, [0, 1])
    assert seqs[0] != seqs[1]
    assert os.getpid()  # the parent is untouched


def _child_pauses(_: int) -> list[float]:
    http = HttpClient("http://127.0.0.1:9", backoff_base_s=1.0, backoff_max_s=8.0)
    return [round(http._backoff(3), 6) for _ in range(5)]


def test_partition_offsets_wait_out_a_leader_election_and_give_up_on_real_errors() -> None:
    """After a broker restart the partition has no leader for a while: ``watermarks`` waits it
    out; an error that is not about leadership is raised at once."""
    from confluent_kafka import KafkaError, KafkaException

    from cryptolake.ingest.binance.jobs import watermarks

    class Consumer:
        def __init__(self, errors: list[int]) -> None:
            self.errors, self.calls = errors, 0

        def get_watermark_offsets(self, _tp: object, timeout: float) -> tuple[int, int]:
            self.calls += 1
            if self.errors:
                raise KafkaException(KafkaError(self.errors.pop(0)))
            return 3, 9

    electing = Consumer([KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE])
    assert watermarks(electing, object(), wait_s=30) == (3, 9) and electing.calls == 3
    broken = Consumer([KafkaError.TOPIC_AUTHORIZATION_FAILED])
    with pytest.raises(KafkaException):
        watermarks(broken, object(), wait_s=30)
    assert broken.calls == 1
