"""Installer helpers: Java discovery faults, artifact naming, checksum-verified reuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptolake.core.errors import ServiceError
from cryptolake.core.settings import Settings
from cryptolake.core.stack import _java, _maven
from cryptolake.core.stack._stack import DEPENDS_ON, Stack


def test_an_explicit_java_home_that_does_not_exist_is_a_clear_fault(tmp_path: Path) -> None:
    with pytest.raises(ServiceError) as info:
        _java.find_java("trino", 24, tmp_path / "nope", tmp_path, "CRYPTOLAKE_TRINO__JAVA_HOME")
    err = info.value
    assert err.service == "trino"
    assert str(tmp_path / "nope") in err.cause and "CRYPTOLAKE_TRINO__JAVA_HOME" in err.fix


def test_an_explicit_java_that_is_too_old_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "jdk" / "bin" / "java"
    fake.parent.mkdir(parents=True)
    fake.write_text('#!/bin/sh\necho "    java.specification.version = 11" >&2\n')
    fake.chmod(0o755)
    with pytest.raises(ServiceError, match=r"Java 11 .* older than the 24"):
        _java.find_java("trino", 24, tmp_path / "jdk", tmp_path, "CRYPTOLAKE_TRINO__JAVA_HOME")


def test_artifact_names() -> None:
    art = _maven.Artifact("org.gaul", "s3proxy", "4.0.0", "jar", "jar-with-dependencies")
    assert art.coords == "org.gaul:s3proxy:4.0.0:jar:jar-with-dependencies"
    assert art.filename == "s3proxy-4.0.0-jar-with-dependencies.jar"
    assert art.m2_path.parts[-4:] == ("gaul", "s3proxy", "4.0.0", art.filename)
    tgz = _maven.Artifact("io.trino", "trino-server-core", "476", "tar.gz")
    assert tgz.filename == "trino-server-core-476.tar.gz"


def test_a_verified_download_is_reused_without_maven(tmp_path: Path, monkeypatch) -> None:
    art = _maven.Artifact("org.example", "thing", "1.0")
    (tmp_path / art.filename).write_bytes(b"payload")
    (tmp_path / f"{art.filename}.sha1").write_text(_maven.sha1_of(tmp_path / art.filename))

    def no_maven(*a, **k):
        raise AssertionError("mvn must not run for a verified copy")

    monkeypatch.setattr(_maven, "_mvn", no_maven)
    path, fetched = _maven.fetch("x", art, tmp_path)
    assert path == tmp_path / art.filename and fetched is False


def test_a_damaged_download_is_fetched_again(tmp_path: Path, monkeypatch) -> None:
    art = _maven.Artifact("org.example", "thing", "1.0")
    (tmp_path / art.filename).write_bytes(b"damaged")
    (tmp_path / f"{art.filename}.sha1").write_text("0" * 40)
    calls = []

    def fake_mvn(service, args, cwd, what):
        calls.append(what)
        (tmp_path / art.filename).write_bytes(b"good")

    monkeypatch.setattr(_maven, "_mvn", fake_mvn)
    monkeypatch.setattr(_maven, "_published_sha1", lambda a: _maven.sha1_of(tmp_path / a.filename))
    _, fetched = _maven.fetch("x", art, tmp_path)
    assert fetched and calls == [art.coords]
    assert (tmp_path / f"{art.filename}.sha1").read_text().strip() == _maven.sha1_of(
        tmp_path / art.filename
    )


def test_trino_brings_its_catalog_services_up(tmp_path: Path) -> None:
    stack = Stack(Settings(home=tmp_path))
    assert stack.resolve(["trino"]) == ["postgres", "s3", "trino"]
    assert stack.resolve(["redis"]) == ["redis"]
    assert set(DEPENDS_ON["trino"]) == {"postgres", "s3"}


def test_up_and_down_on_one_home_take_turns(tmp_path: Path) -> None:
    import threading
    import time

    stack = Stack(Settings(home=tmp_path))
    other = Stack(Settings(home=tmp_path))
    events: list[str] = []
    waiting: list[str] = []

    def hold() -> None:
        with stack._locked(lambda s, m: None):
            events.append("first in")
            time.sleep(0.5)
            events.append("first out")

    t = threading.Thread(target=hold)
    t.start()
    time.sleep(0.1)
    with other._locked(lambda s, m: waiting.append(m)):
        events.append("second in")
    t.join()
    assert events == ["first in", "first out", "second in"]
    assert waiting and "waiting for another" in waiting[0]


def test_down_of_the_whole_stack_also_stops_the_processes_plugins_supervise(tmp_path: Path) -> None:
    import sys

    from cryptolake.core import supervisor

    stack = Stack(Settings(home=tmp_path))
    stack.layout.ensure()
    pidfile = tmp_path / "run" / "stream-bronze.json"  # what `cryptolake stream start` records
    proc = supervisor.start("stream bronze", [sys.executable, "-c", "import time; time.sleep(60)"],
                            pidfile=pidfile, log=tmp_path / "logs" / "stream-bronze.log")
    try:
        assert stack.down(["redis"]) == []  # naming services leaves it alone
        assert supervisor.running(pidfile) is not None
        assert stack.down() == ["stream-bronze"]
        assert supervisor.running(pidfile) is None and not pidfile.exists()
        assert proc.wait(timeout=10) is not None
    finally:
        proc.kill()
