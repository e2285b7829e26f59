"""The stack on real servers: status, idempotent ``up``, recovery after ``kill -9``, fault lines."""

from __future__ import annotations

import json
import os
import shutil
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

import pyarrow as pa
import pytest

from cryptolake.core.clients import load_catalog, query
from cryptolake.core.errors import ServiceError
from cryptolake.core.settings import Settings
from cryptolake.core.stack import INFRA_SERVICES, SERVICE_NAMES, Stack

pytestmark = pytest.mark.integration


def _cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cryptolake.core.stack.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _isolated_env(scratch: Path) -> dict[str, str]:
    """A private home and free ports: nothing here can touch the shared stack."""
    return {
        "CRYPTOLAKE_HOME": str(scratch / "home"),
        "CRYPTOLAKE_POSTGRES__PORT": str(_free_port()),
        "CRYPTOLAKE_REDIS__PORT": str(_free_port()),
        "CRYPTOLAKE_S3__ENDPOINT": f"http://127.0.0.1:{_free_port()}",
        "CRYPTOLAKE_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{_free_port()}",
        "CRYPTOLAKE_KAFKA__CONTROLLER_PORT": str(_free_port()),
        "CRYPTOLAKE_TRINO__PORT": str(_free_port()),
    }


def _one_fault_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The fault: a non-zero exit and exactly one error line (progress lines may precede it)."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error ")]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


# ----------------------------------------------------------------------------- running stack
def test_status_json_reports_every_service_healthy(lakehouse_stack):
    lakehouse_stack.up()  # the fixture starts the infrastructure; this adds the Celery worker, beat
    proc = _cli("status", "--json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 0, [s["error"] for s in report["services"]]
    by_name = {s["service"]: s for s in report["services"]}
    assert set(by_name) == set(SERVICE_NAMES)
    for name, s in by_name.items():
        assert s["healthy"] and s["running"], (name, s)
        assert isinstance(s["pid"], int) and Path(f"/proc/{s['pid']}").exists()
        assert s["rss_mb"] > 0
        assert s["data_dir"].startswith(report["home"])
        # the Celery worker and beat serve no port of the stack; the servers (infrastructure,
        # the API, the web app) do
        assert bool(s["ports"]) == (name not in ("worker", "beat")), (name, s["ports"])
    java = by_name["trino"]["java"]
    assert java.startswith("Java ") and int(java.split()[1]) >= 24


def test_up_is_idempotent_and_fast_when_warm(lakehouse_stack):
    lakehouse_stack.up()
    before = {s.service: s.pid for s in lakehouse_stack.status()}
    result = lakehouse_stack.up()
    assert result.started == []
    assert sorted(result.already_running) == sorted(SERVICE_NAMES)
    assert result.seconds < 60
    assert {s.service: s.pid for s in lakehouse_stack.status()} == before


# ------------------------------------------------------------------------------ kill -9
def _write(service: str, settings: Settings, ns: str, token: str) -> None:
    if service in ("postgres", "s3"):
        schema = pa.schema([("token", pa.string())])
        table = load_catalog(settings).create_table(f"{ns}.kept", schema=schema)
        table.append(pa.table({"token": [token]}, schema=schema))
    elif service == "redis":
        import redis

        redis.Redis.from_url(settings.redis_url()).set(f"test:{ns}", token)
    elif service == "kafka":
        from confluent_kafka import Producer

        from cryptolake.core.clients.kafka import ensure_topics, producer_config

        ensure_topics([f"{ns}.kept"], settings)
        producer = Producer(producer_config(settings))
        producer.produce(f"{ns}.kept", value=token.encode())
        assert producer.flush(30) == 0
    elif service == "trino":
        query(f"CREATE TABLE {ns}.kept AS SELECT '{token}' AS token", settings=settings)


def _read(service: str, settings: Settings, ns: str) -> list[str]:
    if service in ("postgres", "s3"):
        table = load_catalog(settings).load_table(f"{ns}.kept")
        return table.scan().to_arrow().column("token").to_pylist()
    if service == "redis":
        import redis

        value: Any = redis.Redis.from_url(settings.redis_url()).get(f"test:{ns}")
        return [value.decode()] if value else []
    if service == "kafka":
        from confluent_kafka import Consumer

        from cryptolake.core.clients.kafka import consumer_config

        consumer = Consumer(consumer_config(f"test-{ns}", settings))
        consumer.subscribe([f"{ns}.kept"])
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                msg = consumer.poll(1.0)
                if msg is not None and not msg.error():
                    return [(msg.value() or b"").decode()]
            return []
        finally:
            consumer.close()
    return [r[0] for r in query(f"SELECT token FROM {ns}.kept", settings=settings)]


def _scratch(prefix: str) -> Path:
    """A private directory outside pytest's numbered temp dirs, which concurrent pytest runs on
    the same machine prune (only the newest three survive)."""
    base = Path(tempfile.gettempdir()) / "cryptolake-tests"
    base.mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))


@pytest.fixture
def scratch() -> Iterator[Path]:
    path = _scratch("fault-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def private_stack(lakehouse_stack):
    """A second stack on free ports in a private home (software shared with the main one by
    links), so killing its services disturbs nobody else using the shared stack."""
    main_home = lakehouse_stack.settings.home
    root = _scratch("private-stack-")
    home = root / "home"
    home.mkdir()
    for part in ("opt", "downloads"):
        (home / part).symlink_to(main_home / part)
    env = _isolated_env(home.parent)
    settings = Settings(
        home=home,
        postgres={"port": int(env["CRYPTOLAKE_POSTGRES__PORT"])},
        redis={"port": int(env["CRYPTOLAKE_REDIS__PORT"])},
        s3={"endpoint": env["CRYPTOLAKE_S3__ENDPOINT"]},
        kafka={
            "bootstrap_servers": env["CRYPTOLAKE_KAFKA__BOOTSTRAP_SERVERS"],
            "controller_port": int(env["CRYPTOLAKE_KAFKA__CONTROLLER_PORT"]),
        },
        trino={"port": int(env["CRYPTOLAKE_TRINO__PORT"]), "heap": "1G"},
    )
    stack = Stack(settings)
    yield stack
    stack.down()
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("service", INFRA_SERVICES)
def test_up_recovers_a_killed_service_with_its_data(service, private_stack):
    stack = private_stack
    settings = stack.settings
    # an Iceberg table needs both the catalog and the object store
    stack.up(["postgres", "s3"] if service in ("postgres", "s3") else [service])
    ns = f"kill_{service}"
    if service in ("postgres", "s3", "trino"):
        load_catalog(settings).create_namespace_if_not_exists(ns)
    token = uuid.uuid4().hex
    _write(service, settings, ns, token)
    [before] = stack.status([service])
    assert before.healthy

    os.kill(before.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{before.pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    [down] = stack.status([service])
    assert not down.healthy and not down.running

    result = stack.up([service])
    assert service in result.started
    [after] = stack.status([service])
    assert after.healthy and after.pid != before.pid
    assert _read(service, settings, ns) == [token]


# --------------------------------------------------------------------------------- faults
def test_port_already_taken_names_the_service_the_port_and_the_fix(scratch):
    env = _isolated_env(scratch)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env["CRYPTOLAKE_REDIS__PORT"] = str(port)
        line = _one_fault_line(_cli("up", "redis", env=env))
    assert line.startswith("error redis: ")
    assert f"port {port}" in line and f"pid {os.getpid()}" in line
    assert "fix:" in line and "CRYPTOLAKE_REDIS__PORT" in line
    assert not (scratch / "home" / "run" / "redis.json").exists()


def test_missing_jdk_names_the_setting_and_the_fix(scratch):
    env = {**_isolated_env(scratch), "CRYPTOLAKE_TRINO__JAVA_HOME": str(scratch / "no-jdk")}
    line = _one_fault_line(_cli("up", "trino", env=env))
    assert line.startswith("error trino: ")
    assert f"no Java runtime at {scratch / 'no-jdk'}" in line
    assert "CRYPTOLAKE_TRINO__JAVA_HOME" in line and "fix:" in line


def test_failed_download_names_the_artifact(scratch):
    env = {**_isolated_env(scratch), "CRYPTOLAKE_S3__S3PROXY_VERSION": "0.0.0-missing"}
    line = _one_fault_line(_cli("setup", env=env))
    assert line.startswith("error s3: download of org.gaul:s3proxy:0.0.0-missing")
    assert "fix:" in line
    assert not list((scratch / "home" / "downloads").glob("s3proxy-*"))


def test_service_that_exits_during_start_is_reported(scratch):
    env = _isolated_env(scratch)
    data = scratch / "home" / "data" / "postgres"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("not-a-version\n")  # a damaged cluster: postgres exits
    t0 = time.monotonic()
    line = _one_fault_line(_cli("up", "postgres", env=env))
    assert time.monotonic() - t0 < 60  # noticed at once, not after the health timeout
    assert line.startswith("error postgres: exited during start")
    assert "cryptolake stack logs postgres" in line
    assert (
        not (scratch / "home" / "run" / "postgres.json").exists()
        or Stack(Settings(home=scratch / "home")).status(["postgres"])[0].pid is None
    )


def test_unknown_service_is_refused():
    with pytest.raises(ServiceError, match="no such service"):
        Stack().resolve(["nosuch"])
