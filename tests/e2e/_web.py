"""Fixtures of the browser tests (tests/e2e/test_web*.py): the real stack, an API process and the
web app started once per session, and headless Debian Chromium driven by Playwright.

- ``web_api``: ``cryptolake api serve`` on a free port with a private Kafka topic prefix (a
  kline the tests produce reaches only this API, never the shared stream job or Bronze); it can be
  stopped and started again (the unreachable-banner test).
- ``web_app``: ``python -m cryptolake.web serve`` (production mode, one port) against that API;
  its cold/warm start time and resident memory go into the figures file.
- ``browser``: Chromium from ``/usr/bin/chromium`` (``apt-get install chromium``; Playwright
  never downloads a browser here) with a fresh profile.
- ``shots``: the folder under the test run's output folder where every page's screenshot goes
  (``$CRYPTOLAKE_HOME/test-output/web``, beside scripts/test.sh's test-results.xml).
- ``figures``: a dict written as ``web-figures.json`` beside the screenshots at the end.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CLI = [sys.executable, "-m", "cryptolake.core.cli"]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def home() -> Path:
    explicit = os.environ.get("CRYPTOLAKE_HOME")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(explicit) if explicit else Path(base) / "cryptolake"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree_rss_mb(pid: int) -> float:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class Api:
    """An API process of the test session: ``url``, ``gql()``, ``stop()`` and ``start()``."""

    def __init__(self, log: Path, prefix: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.log = log
        self.prefix = prefix
        self.env = {**os.environ, "CRYPTOLAKE_KAFKA__TOPIC_PREFIX": prefix,
                    "CRYPTOLAKE_LOG__FORMAT": "text"}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180.0) -> float:
        t0 = time.monotonic()
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([*CLI, "api", "serve", "--port", str(self.port)],
                                         env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the API exited ({self.proc.returncode}); see {self.log}")
            try:
                if httpx.post(self.url, json={"query": "{ __typename }"}, timeout=5).status_code == 200:
                    return time.monotonic() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the API did not answer within {timeout} s; see {self.log}")

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)

    def gql(self, query: str, variables: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> dict[str, Any]:
        r = httpx.post(self.url, json={"query": query, "variables": variables or {}},
                       headers=headers or {}, timeout=120)
        body = r.json()
        assert not body.get("errors"), body["errors"]
        return dict(body["data"])


@pytest.fixture(scope="session")
def figures() -> Iterator[dict[str, Any]]:
    data: dict[str, Any] = {}
    yield data
    out = _output_dir()
    (out / "web-figures.json").write_text(json.dumps(data, indent=2, sort_keys=True))
    print(f"\nweb figures ({out / 'web-figures.json'}):\n{json.dumps(data, indent=2, sort_keys=True)}")


def _output_dir() -> Path:
    out = home() / "test-output" / "web"  # beside test-results.xml of scripts/test.sh
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="session")
def shots() -> Path:
    return _output_dir()


@pytest.fixture(scope="session")
def web_data(lakehouse_stack: Any) -> None:
    """The bundled sample is in Gold (the daily pipeline ran); runs it when it has not."""
    from cryptolake.core.clients import query

    def hourly_rows() -> int:
        try:
            return int(query("SELECT count(*) FROM lakehouse.gold.fact_price_hourly")[0][0])
        except Exception:
            return 0

    if hourly_rows() == 0:
        out = subprocess.run([*CLI, "pipeline", "run", "--source", "replay", "--timeout", "2400"],
                             capture_output=True, text=True, timeout=2700, check=False)
        assert out.returncode == 0, out.stderr[-3000:]
    assert hourly_rows() > 0


@pytest.fixture(scope="session")
def web_api(web_data: None, tmp_path_factory: pytest.TempPathFactory,
            figures: dict[str, Any]) -> Iterator[Api]:
    api = Api(tmp_path_factory.mktemp("web") / "api.log", f"test_web_{uuid.uuid4().hex[:8]}.")
    from cryptolake.core.clients.kafka import ensure_topics

    # the API's consumer subscribes to the prefixed topics: they must exist before it starts
    ensure_topics([api.prefix + t for t in ("binance.aggtrade", "binance.kline_1m",
                                            "ml.predictions", "ops.events")])
    figures["api_start_s"] = round(api.start(), 1)
    yield api
    api.stop()
    try:
        from confluent_kafka.admin import AdminClient

        from cryptolake.core.clients.kafka import admin_config, delete_topics
        from cryptolake.core.settings import get_settings

        admin = AdminClient(admin_config(get_settings()))
        mine = [t for t in admin.list_topics(timeout=30).topics if t.startswith(api.prefix)]
        delete_topics(mine, get_settings())
    except Exception:  # cleanup of private topics only
        pass


def _web_python() -> str:
    py = home() / "web" / "venv" / "bin" / "python"
    if not py.exists():
        pytest.fail(f"the web environment is missing ({py}): run scripts/bootstrap-web.sh")
    return str(py)


class Web:
    def __init__(self, url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.proc = proc
        self.log = log

    def rss_mb(self) -> float:
        return _tree_rss_mb(self.proc.pid)


def start_web(api_url: str, port: int, log: Path, build_dir: Path,
              timeout: float = 420.0) -> tuple[subprocess.Popen[bytes], float]:
    env = {**os.environ, "CRYPTOLAKE_WEB__API_URL": api_url, "CRYPTOLAKE_WEB__PORT": str(port)}
    t0 = time.monotonic()
    with open(log, "ab") as out:
        proc = subprocess.Popen([_web_python(), "-m", "cryptolake.web", "serve", "--port", str(port),
                                 "--build-dir", str(build_dir)], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the web app exited ({proc.returncode}); see {log}:\n"
                               + log.read_text()[-3000:])
        try:
            if httpx.get(f"{base}/ping", timeout=3).status_code == 200 and \
                    httpx.get(base + "/", timeout=5).status_code == 200:
                return proc, time.monotonic() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    _stop(proc)
    raise RuntimeError(f"the web app did not start within {timeout} s; see {log}")


@pytest.fixture(scope="session")
def web_app(web_api: Api, tmp_path_factory: pytest.TempPathFactory,
            figures: dict[str, Any]) -> Iterator[Web]:
    """The web app in production mode, started once per session (a start rebuilds the frontend).
    The build directory is kept between sessions (``$CRYPTOLAKE_HOME/web/e2e-build``): the first
    session is the cold start, later ones warm."""
    build = home() / "web" / "e2e-build"
    cold = not (build / ".web" / "node_modules").exists()
    log = tmp_path_factory.mktemp("web") / "web.log"
    port = free_port()
    proc, took = start_web(web_api.url, port, log, build)
    figures["web_start_s"] = round(took, 1)
    figures["web_start_kind"] = "cold (empty build directory)" if cold else "warm (build directory kept)"
    web = Web(f"http://127.0.0.1:{port}", proc, log)
    figures["web_rss_mb_idle"] = round(web.rss_mb(), 1)
    yield web
    figures["web_rss_mb_after_tests"] = round(web.rss_mb(), 1)
    _stop(proc)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium chromium-driver` "
                    "(scripts/bootstrap-web.sh --browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        yield ctx
        ctx.close()


def wait_loaded(page: Any, timeout_ms: int = 90_000) -> None:
    """Until the page's state finished its first load (the "updated …" time is shown)."""
    page.wait_for_function(
        "() => { const u = document.querySelector('#updated-at');"
        " return u && u.innerText.includes('UTC'); }", timeout=timeout_ms)


def traces(page: Any, chart_id: str) -> list[dict[str, Any]]:
    """Name, point count and last x/close of every trace of a Plotly chart in the page."""
    return list(page.evaluate(
        """(id) => { const el = document.querySelector('#' + id + ' .js-plotly-plot');
             if (!el || !el.data) return [];
             return el.data.map(t => ({name: t.name, n: (t.x || []).length,
                                       last_x: (t.x || []).slice(-1)[0] ?? null,
                                       last_close: (t.close || t.y || []).slice(-1)[0] ?? null,
                                       x: t.x || [], close: t.close || null})); }""", chart_id))
