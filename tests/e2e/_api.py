"""Fixtures of the API tests: the bundled sample loaded once, one API server for the session.

``loaded_lakehouse`` reuses the stack (``lakehouse_stack``) and the data already in it: the bundled
sample goes through ``cryptolake pipeline run --source replay`` only when Gold does not hold it
yet. ``api`` is a real ``cryptolake api serve`` process on a free port, with its own Redis
database, Kafka topic prefix and a low reader rate limit (for the abuse tests).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CLI = [sys.executable, "-m", "cryptolake.core.cli"]
ROOT = Path(__file__).resolve().parents[2]
READER_RATE = 60
BROKER_DB = 12


def trino(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    from cryptolake.core.clients import query

    return query(sql, params)


@pytest.fixture(scope="session")
def loaded_lakehouse(lakehouse_stack: Any) -> Any:
    from _expected import expected

    want = expected()
    try:
        have = trino("SELECT count(*) FROM gold.market_ohlc")[0][0]
    except Exception:
        have = 0
    if have < want.market_ohlc:
        out = subprocess.run([*CLI, "pipeline", "run", "--source", "replay"], capture_output=True,
                             text=True, timeout=2400, check=False)
        assert out.returncode == 0, out.stderr[-3000:]
    return lakehouse_stack


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Api:
    url: str
    env: dict[str, str]
    prefix: str
    pid: int
    keys: dict[str, str] = field(default_factory=dict)

    def post(self, query: str, variables: dict[str, Any] | None = None, key: str | None = None,
             headers: dict[str, str] | None = None, timeout: float = 60) -> Any:
        import httpx

        h = dict(headers or {})
        if key:
            h["Authorization"] = f"Bearer {key}"
        return httpx.post(self.url + "/graphql", json={"query": query, "variables": variables or {}},
                          headers=h, timeout=timeout)

    def gql(self, query: str, variables: dict[str, Any] | None = None, key: str | None = None) -> dict[str, Any]:
        r = self.post(query, variables, key)
        assert r.status_code == 200, r.text
        body = r.json()
        return body  # type: ignore[no-any-return]

    def data(self, query: str, variables: dict[str, Any] | None = None, key: str | None = None) -> dict[str, Any]:
        body = self.gql(query, variables, key)
        assert not body.get("errors"), body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, "api", *args], env=self.env, capture_output=True, text=True,
                              timeout=120, check=False)

    def key(self, role: str, fresh: bool = False) -> str:
        """A key of ``role``, made with the key store the CLI uses (the CLI's own test is
        test_a_revoked_key_is_refused)."""
        if role not in self.keys or fresh:
            from sqlalchemy import create_engine

            from cryptolake.api.auth import KeyStore
            from cryptolake.core import get_settings

            key, _ = KeyStore(create_engine(get_settings().postgres_dsn)).create("api tests", role)
            if fresh:
                return key
            self.keys[role] = key
        return self.keys[role]

    def alive(self) -> bool:
        import httpx

        return httpx.get(self.url + "/healthz", timeout=5).status_code == 200


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The third-party example plugin installed into a private directory (never the project's
    environment), as tests/plugins does."""
    target = tmp_path_factory.mktemp("site")
    home = Path(os.environ.get("CRYPTOLAKE_HOME") or Path.home() / ".cache" / "cryptolake")
    found = [str(c) for c in (home / "tools" / "uv" / "bin" / "uv", shutil.which("uv"))
             if c and Path(c).exists()]
    if not found:
        pytest.fail(f"uv not found under {home / 'tools'} nor on PATH: run scripts/bootstrap.sh")
    subprocess.run([found[0], "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(ROOT / "tests" / "thirdparty" / "cryptolake-example-plugin")], check=True)
    return target


@pytest.fixture(scope="session")
def ticks_table(lakehouse_stack: Any) -> Iterator[str]:
    """A private namespace holding the example plugin's ticks table (exposed by its API hook)."""
    from cryptolake.core.clients.catalog import load_catalog
    from cryptolake.core.testing.stack import drop_namespace

    settings = lakehouse_stack.settings
    ns = f"test_api_{uuid.uuid4().hex[:8]}"
    load_catalog(settings).create_namespace(ns)
    yield f"{ns}.example_ticks"
    drop_namespace(ns, settings)


def append_ticks(table: str, ticks: list[int]) -> int:
    """Commit ticks (value = tick × 1.5) to ``table``; returns the new snapshot id."""
    from datetime import UTC, datetime

    import pyarrow as pa
    from pyiceberg.exceptions import NoSuchTableError

    from cryptolake.core.clients.catalog import load_catalog

    schema = pa.schema([("tick", pa.int64()), ("value", pa.float64()), ("at", pa.timestamp("us", tz="UTC"))])
    data = pa.Table.from_pylist([{"tick": t, "value": t * 1.5, "at": datetime.now(UTC)} for t in ticks],
                                schema=schema)
    catalog = load_catalog()
    try:
        tbl = catalog.load_table(table)
    except NoSuchTableError:
        tbl = catalog.create_table(table, schema=schema)
    tbl.append(data)
    return int(catalog.load_table(table).current_snapshot().snapshot_id)


@pytest.fixture(scope="session")
def api(loaded_lakehouse: Any, example_site: Path, ticks_table: str,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    import httpx

    port = _free_port()
    prefix = f"test_{uuid.uuid4().hex[:8]}."
    env = {**os.environ, "CRYPTOLAKE_API__PORT": str(port), "CRYPTOLAKE_API__REDIS_DB": "5",
           "PYTHONPATH": str(example_site), "EXAMPLE_PLUGIN_API_TABLE": ticks_table,
           "CRYPTOLAKE_API__READER__RATE_PER_MINUTE": str(READER_RATE),
           "CRYPTOLAKE_API__CONNECTION_INIT_WAIT_TIMEOUT_S": "2",
           "CRYPTOLAKE_API__MAX_SUBSCRIPTIONS_PER_CONNECTION": "3",
           # mutations queue on a broker database no worker reads: the test looks at the queue
           "CRYPTOLAKE_JOBS__BROKER_DB": str(BROKER_DB), "CRYPTOLAKE_JOBS__RESULT_DB": str(BROKER_DB + 1),
           "CRYPTOLAKE_KAFKA__TOPIC_PREFIX": prefix, "CRYPTOLAKE_LOG__FORMAT": "text"}
    log = tmp_path_factory.mktemp("api") / "api.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([*CLI, "api", "serve", "--port", str(port)], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url + "/readyz", timeout=30).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the API did not become ready:\n" + log.read_text()[-3000:])
        time.sleep(0.5)
    import redis

    from cryptolake.core import get_settings

    for db in (5, BROKER_DB, BROKER_DB + 1):
        redis.Redis.from_url(get_settings().redis_url(db)).flushdb()
    yield Api(url, env, prefix, proc.pid)
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    from confluent_kafka.admin import AdminClient

    from cryptolake.core.clients.kafka import admin_config, delete_topics

    admin = AdminClient(admin_config(get_settings()))
    mine = [t for t in admin.list_topics(timeout=30).topics if t.startswith(prefix)]
    if mine:
        delete_topics(mine, get_settings())


def snapshot_of(body: dict[str, Any], table: str) -> int:
    return int(body["extensions"]["snapshots"][table])


def dump(x: Any) -> str:
    return json.dumps(x, indent=1, default=str)[:2000]


class Ws:
    """A graphql-transport-ws client (synchronous, for tests)."""

    def __init__(self, api: Api, payload: dict[str, Any] | None = None, init: bool = True,
                 origin: str | None = None) -> None:
        from websockets.sync.client import connect

        self.conn = connect(api.url.replace("http", "ws") + "/graphql",
                            subprotocols=["graphql-transport-ws"], open_timeout=10,  # type: ignore[list-item]
                            origin=origin)  # type: ignore[arg-type]
        if init:
            self.send({"type": "connection_init", "payload": payload or {}})
            ack = self.recv(10)
            assert ack["type"] == "connection_ack", ack

    def send(self, msg: dict[str, Any]) -> None:
        self.conn.send(json.dumps(msg))

    def recv(self, timeout: float = 10) -> dict[str, Any]:
        return json.loads(self.conn.recv(timeout=timeout))  # type: ignore[no-any-return]

    def subscribe(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        self.send({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})

    def next(self, op_id: str, timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            msg = self.recv(max(0.1, deadline - time.monotonic()))
            if msg.get("id") == op_id:
                return msg

    def close(self) -> None:
        self.conn.close()


def produce(api: Api, topic: str, values: list[dict[str, Any]], key: str) -> None:
    from confluent_kafka import Producer

    from cryptolake.core.clients import producer_config

    p = Producer(producer_config(None, **{"linger.ms": 0}))
    for v in values:
        p.produce(api.prefix + topic, key=key.encode(), value=json.dumps(v).encode())
    assert p.flush(10) == 0
