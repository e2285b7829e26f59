"""Every ingest plugin passes the core's source conformance suite."""

from cryptolake.core.testing import SourceConformance
from cryptolake.ingest.binance import plugin as binance
from cryptolake.ingest.coingecko import plugin as coingecko
from cryptolake.ingest.feargreed import plugin as feargreed
from cryptolake.ingest.replay import plugin as replay


class TestBinance(SourceConformance, plugin=binance):
    pass


class TestCoinGecko(SourceConformance, plugin=coingecko):
    pass


class TestFearGreed(SourceConformance, plugin=feargreed):
    pass


class TestReplay(SourceConformance, plugin=replay):
    pass
