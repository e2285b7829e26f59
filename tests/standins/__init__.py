"""Local stand-ins for the third-party services CryptoLake reads (Binance, CoinGecko,
Alternative.me), speaking their protocols with recorded real payloads, with scripted faults.

Only these outside services are stood in; every part of our own stack is real in every test.
"""

from standins.apis import CoinGeckoStandin, FearGreedStandin
from standins.binance import BinanceStandin, Session
from standins.http import Fault, StandinHTTPServer

__all__ = [
    "BinanceStandin",
    "CoinGeckoStandin",
    "Fault",
    "FearGreedStandin",
    "Session",
    "StandinHTTPServer",
]
