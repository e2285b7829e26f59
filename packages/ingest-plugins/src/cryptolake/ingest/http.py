"""A polite HTTP client for the REST sources: request budget, retries, ``Retry-After``.

- a per-minute request budget (sliding window) and, for Binance, a request-weight budget read
  from the ``X-MBX-USED-WEIGHT-1M`` header;
- 401 / 403: the credentials (or the lack of them) were refused: :class:`AuthRejected`, a
  configuration error naming the setting to fix; the job fails, nothing is dead-lettered;
- 408 / 429 / 418: wait ``Retry-After`` seconds (or back off when it is absent), then retry; still
  refused after every retry: :class:`~cryptolake.core.TransientError` (the next run tries again);
- 5xx, connection errors and truncated bodies: exponential backoff with full jitter (a uniform
  pause in ``[0, min(max, base * 2**attempt)]``), then retry;
- any other 4xx, and a body that is not JSON after every retry, raise :class:`MalformedResponse`
  with the raw bytes, so the caller can dead-letter it and go on.

The jitter comes from a generator seeded from the OS per client, so workers forked from one parent
do not retry in lockstep.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptolake.core import ConfigError, TerminalError, TransientError

log = logging.getLogger(__name__)

#: Statuses that say "not now": retried after ``Retry-After`` or a backoff.
RATE_LIMITED = frozenset({408, 418, 429})
#: Statuses that say "not with these credentials": a configuration error.
AUTH_REFUSED = frozenset({401, 403})


class MalformedResponse(TerminalError):
    def __init__(self, url: str, reason: str, body: bytes) -> None:
        self.url = url
        self.reason = reason
        self.body = body
        super().__init__(f"{url}: {reason}")


class AuthRejected(ConfigError):
    """The API refused the request's credentials (HTTP 401/403): fix ``setting``, then rerun."""

    def __init__(self, url: str, status: int, setting: str) -> None:
        self.url = url
        self.status = status
        self.setting = setting
        super().__init__(
            f"GET {url}: HTTP {status} — the API refused the credentials; check {setting}"
        )


def _seeded_rng() -> random.Random:
    return random.Random(int.from_bytes(os.urandom(16), "big"))


@dataclass
class Response:
    url: str
    data: Any
    body: bytes
    fetched_ms: int
    headers: dict[str, str]


@dataclass
class HttpClient:
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    requests_per_minute: int = 0  # 0 = unlimited
    weight_per_minute: int = 0  # Binance request-weight limit; 0 = not tracked
    weight_header: str = "x-mbx-used-weight-1m"
    max_retries: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    timeout_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    #: what a 401/403 tells the user to check (the setting holding the key, or the URL)
    auth_setting: str = "the API credentials and base URL in the source's configuration"
    rng: random.Random = field(default_factory=_seeded_rng)
    stats: dict[str, int] = field(
        default_factory=lambda: {"requests": 0, "retries": 0, "rate_limited": 0, "server_errors": 0}
    )
    _sent: deque[float] = field(default_factory=deque)
    _used_weight: int = 0
    _weight_minute: int = -1
    _client: Any = None

    def __post_init__(self) -> None:
        import httpx

        self._client = httpx.Client(
            base_url=self.base_url.rstrip("/"),
            headers=self.headers,
            timeout=self.timeout_s,
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- budgets -------------------------------------------------------------------------------

    def _wait_budget(self, weight: int) -> None:
        now = time.monotonic()
        if self.requests_per_minute:
            while self._sent and now - self._sent[0] >= 60:
                self._sent.popleft()
            if len(self._sent) >= self.requests_per_minute:
                pause = 60 - (now - self._sent[0]) + 0.01
                log.info(
                    "request budget of %d/min spent; waiting %.1fs", self.requests_per_minute, pause
                )
                self.sleep(pause)
                self._sent.popleft()
        if self.weight_per_minute:
            minute = int(time.time() // 60)
            if minute != self._weight_minute:
                self._weight_minute, self._used_weight = minute, 0
            if self._used_weight + weight > self.weight_per_minute:
                pause = 60 - time.time() % 60 + 0.05
                log.info(
                    "request weight %d/%d used; waiting %.1fs for the next minute",
                    self._used_weight,
                    self.weight_per_minute,
                    pause,
                )
                self.sleep(pause)
                self._weight_minute, self._used_weight = int(time.time() // 60), 0
        self._sent.append(time.monotonic())

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in ``[0, min(backoff_max_s, backoff_base_s * 2**attempt)]``."""
        cap = min(self.backoff_max_s, self.backoff_base_s * 2**attempt)
        return self.rng.uniform(0, cap)

    # -- requests --------------------------------------------------------------------------------

    def get_json(
        self, path: str, params: dict[str, Any] | None = None, *, weight: int = 1
    ) -> Response:
        import httpx

        url = f"{self.base_url.rstrip('/')}{path}"
        last: str = ""
        body = b""
        for attempt in range(self.max_retries + 1):
            self._wait_budget(weight)
            self.stats["requests"] += 1
            if attempt:
                self.stats["retries"] += 1
            try:
                resp = self._client.get(path, params=params)
                body = resp.content
            except (httpx.TransportError, httpx.DecodingError) as exc:
                # connection refused / reset, or a body cut short (Content-Length not reached)
                last = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "GET %s failed (%s); attempt %d of %d", url, last, attempt + 1, self.max_retries + 1
                )
                self.sleep(self._backoff(attempt))
                continue
            used = resp.headers.get(self.weight_header)
            if used and used.isdigit():
                self._used_weight = int(used)
                self._weight_minute = int(time.time() // 60)
            if resp.status_code in AUTH_REFUSED:
                raise AuthRejected(str(resp.url), resp.status_code, self.auth_setting)
            if resp.status_code in RATE_LIMITED:
                self.stats["rate_limited"] += 1
                retry_after = resp.headers.get("retry-after", "")
                pause = (
                    float(retry_after)
                    if retry_after.replace(".", "", 1).isdigit()
                    else self._backoff(attempt)
                )
                last = f"HTTP {resp.status_code} (Retry-After {retry_after or 'absent'})"
                log.warning("GET %s: %s; waiting %.1fs", url, last, pause)
                self.sleep(pause)
                continue
            if resp.status_code >= 500:
                self.stats["server_errors"] += 1
                last = f"HTTP {resp.status_code}"
                log.warning("GET %s: %s; attempt %d of %d", url, last, attempt + 1, self.max_retries + 1)
                self.sleep(self._backoff(attempt))
                continue
            if resp.status_code >= 400:
                raise MalformedResponse(str(resp.url), f"HTTP {resp.status_code}", body)
            try:
                data = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                last = f"body is not JSON ({exc})"
                log.warning("GET %s: %s; attempt %d of %d", url, last, attempt + 1, self.max_retries + 1)
                if attempt < self.max_retries:
                    self.sleep(self._backoff(attempt))
                    continue
                raise MalformedResponse(str(resp.url), last, body) from exc
            return Response(str(resp.url), data, body, int(time.time() * 1000), dict(resp.headers))
        if body and last.startswith("body is not JSON"):
            raise MalformedResponse(url, last, body)
        raise TransientError(f"GET {url} failed after {self.max_retries} retries: {last}")
