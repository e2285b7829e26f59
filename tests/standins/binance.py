"""A Binance spot stand-in: the combined-stream websocket and the REST endpoints it backfills from.

Payloads: every frame has the exact envelope, field set and encoding of the real frames recorded
in the sample's websocket capture; the values come from the sample's real BTCUSDT 1-minute bars
(each bar becomes ``trades_per_bar`` aggregate trades with consecutive ids, and a closed
``kline_1m`` event). The REST ``/api/v3/aggTrades`` and ``/api/v3/klines`` endpoints answer from
the same tape, so whatever a client misses on the websocket it can backfill.

``sessions`` scripts the connections: each :class:`Session` serves frames ``[start, stop)`` of the
tape and then closes the connection (a forced disconnect, as Binance does every 24 hours);
starting the next session later than the previous one stopped leaves an id gap.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gzip
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from cryptolake.ingest.replay.config import SAMPLE_DIR
from standins.http import StandinHTTPServer, json_body

FIRST_AGG_ID = 2_000_000_000


@dataclass
class Session:
    start: int
    stop: int | None = None  # None: serve to the end, then keep the connection open


@dataclass
class Tape:
    symbol: str = "BTCUSDT"
    trades_per_bar: int = 4
    bars: int = 30
    frames: list[bytes] = field(default_factory=list)  # combined-stream frames, in order
    agg_trades: list[dict[str, Any]] = field(default_factory=list)
    klines: list[list[Any]] = field(default_factory=list)  # REST 12-field arrays

    def build(self) -> Tape:
        lines = gzip.decompress((SAMPLE_DIR / "binance/klines_1m/BTCUSDT_1m.csv.gz").read_bytes())
        rows = [ln.split(",") for ln in lines.decode().splitlines()[1 : 1 + self.bars]]
        from datetime import datetime

        agg_id, trade_id = FIRST_AGG_ID, 4_000_000_000
        s = self.symbol.lower()
        for o, h, low, c, v, q, n, close_dt in rows:
            close_ms = int(round(datetime.fromisoformat(close_dt).timestamp() * 1000))
            open_ms = close_ms - 59_999
            first_trade = trade_id
            prices = [o, h, low, c][: self.trades_per_bar]
            qty = f"{float(v) / self.trades_per_bar:.8f}"
            for i, p in enumerate(prices):
                t = open_ms + 1000 * (i + 1)
                ev = {
                    "e": "aggTrade",
                    "E": t + 5,
                    "s": self.symbol,
                    "a": agg_id,
                    "p": f"{float(p):.8f}",
                    "q": qty,
                    "f": trade_id,
                    "l": trade_id + 1,
                    "T": t,
                    "m": i % 2 == 1,
                    "M": True,
                }
                self.agg_trades.append(ev)
                self.frames.append(json_body({"stream": f"{s}@aggTrade", "data": ev}))
                agg_id += 1
                trade_id += 2
            k = {
                "t": open_ms,
                "T": close_ms,
                "s": self.symbol,
                "i": "1m",
                "f": first_trade,
                "L": trade_id - 1,
                "o": f"{float(o):.8f}",
                "c": f"{float(c):.8f}",
                "h": f"{float(h):.8f}",
                "l": f"{float(low):.8f}",
                "v": f"{float(v):.8f}",
                "n": int(n),
                "x": True,
                "q": f"{float(q):.8f}",
                "V": "0.00000000",
                "Q": "0.00000000",
                "B": "0",
            }
            self.frames.append(
                json_body(
                    {
                        "stream": f"{s}@kline_1m",
                        "data": {"e": "kline", "E": close_ms + 1, "s": self.symbol, "k": k},
                    }
                )
            )
            self.klines.append(
                [
                    open_ms,
                    k["o"],
                    k["h"],
                    k["l"],
                    k["c"],
                    k["v"],
                    close_ms,
                    k["q"],
                    k["n"],
                    k["V"],
                    k["Q"],
                    "0",
                ]
            )
        return self


class BinanceStandin:
    """The websocket server (own thread and event loop) plus a REST server."""

    def __init__(
        self,
        sessions: list[Session] | None = None,
        *,
        tape: Tape | None = None,
        ping_interval: float | None = 0.5,
    ) -> None:
        self.tape = tape or Tape().build()
        self.sessions = list(sessions or [Session(0)])
        self.ping_interval = ping_interval
        self.connections = 0
        self.paths: list[str] = []
        self.rest = StandinHTTPServer()
        self.rest.extra_headers = {"X-MBX-USED-WEIGHT-1M": "10"}
        self.rest.route("/api/v3/aggTrades", self._agg_trades)
        self.rest.route("/api/v3/klines", self._klines)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._port = 0
        self._server: Any = None

    # -- REST ----------------------------------------------------------------------------------

    def _agg_trades(self, path: str, params: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        from_id = int(params["fromId"])
        limit = min(int(params.get("limit", "500")), 1000)
        out = [
            {k: v for k, v in t.items() if k not in ("e", "E", "s")}
            for t in self.tape.agg_trades
            if t["a"] >= from_id
        ][:limit]
        return 200, json_body(out), {}

    def _klines(self, path: str, params: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        if params.get("interval", "1m") != "1m":
            return 200, b"[]", {}  # the tape holds 1-minute bars only
        start = int(params.get("startTime", "0"))
        end = int(params.get("endTime", str(2**62)))
        limit = min(int(params.get("limit", "500")), 1000)
        out = [k for k in self.tape.klines if start <= k[0] <= end][:limit]
        return 200, json_body(out), {}

    # -- websocket -----------------------------------------------------------------------------

    async def _handler(self, ws: Any) -> None:
        self.paths.append(ws.request.path)
        n = self.connections
        self.connections += 1
        if n >= len(self.sessions):
            await asyncio.sleep(3600)
            return
        sess = self.sessions[n]
        for frame in self.tape.frames[sess.start : sess.stop]:
            await ws.send(frame.decode())
            await asyncio.sleep(0.001)
        if sess.stop is not None:
            await ws.close(code=1001, reason="forced disconnect (stand-in)")
        else:
            await asyncio.sleep(3600)

    def _run(self) -> None:
        from websockets.asyncio.server import serve

        async def main() -> None:
            self._server = await serve(
                self._handler,
                "127.0.0.1",
                0,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_interval,
            )
            self._port = self._server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._server.serve_forever()

        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(main())
        except asyncio.CancelledError:
            pass
        finally:
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            if pending:
                self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}"

    @property
    def rest_url(self) -> str:
        return self.rest.url

    def start(self) -> BinanceStandin:
        self.rest.start()
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self.rest.stop()
        if self._server is not None:

            async def close() -> None:
                self._server.close(close_connections=True)
                await self._server.wait_closed()

            try:
                asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
            except (asyncio.CancelledError, concurrent.futures.CancelledError):
                pass  # the loop wound down while closing
        self._thread.join(5)

    def __enter__(self) -> BinanceStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def frames_as_events(frames: list[bytes]) -> list[dict[str, Any]]:
    return [json.loads(f)["data"] for f in frames]
