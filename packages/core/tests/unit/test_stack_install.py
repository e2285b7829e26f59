"""Installer helpers: Java discovery faults, artifact naming, checksum-verified reuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


class _Fake:
    """A service that is a sleeping process, healthy once ``ready()`` says so."""

    java_min = None
    stop_signal = 15

    def __init__(self, name: str, layout: object, ready: object, timeout: float) -> None:
        self.name, self.layout, self.ready, self.start_timeout = name, layout, ready, timeout

    def ports(self) -> list[int]:
        return []

    def check_installed(self) -> None:
        pass

    def prepare(self) -> None:
        pass

    def launch(self) -> object:
        import sys

        from cryptolake.core.stack.services import Launch

        return Launch([sys.executable, "-c", "import time; time.sleep(30)"], self.layout.home, {})  # type: ignore[attr-defined]

    def probe(self, timeout: float = 5.0) -> None:
        if not self.ready():  # type: ignore[operator]
            raise RuntimeError(f"{self.name} not ready")


def _fake_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trino_ready_after: float,
                api_timeout: float) -> tuple[Stack, dict[str, float]]:
    import time

    from cryptolake.core.stack import _stack

    monkeypatch.setattr(_stack, "preload_clients", lambda: None)
    stack = Stack(Settings(home=tmp_path))
    t0 = time.monotonic()
    seen: dict[str, float] = {}

    def trino_ready() -> bool:
        ok = time.monotonic() - t0 > trino_ready_after
        if ok:
            seen.setdefault("trino", time.monotonic() - t0)
        return ok

    fakes = {"postgres": _Fake("postgres", stack.layout, lambda: True, 5),
             "s3": _Fake("s3", stack.layout, lambda: True, 5),
             "redis": _Fake("redis", stack.layout, lambda: True, 5),
             "trino": _Fake("trino", stack.layout, trino_ready, 10),
             "api": _Fake("api", stack.layout, lambda: "trino" in seen, api_timeout)}
    stack.services = fakes  # type: ignore[assignment]
    stack.names = tuple(fakes)
    return stack, seen


def _stop(stack: Stack) -> None:
    import os
    import signal

    from cryptolake.core import supervisor as _supervisor

    for name in stack.names:
        tracked = _supervisor.read_pidfile(stack.layout.pidfile(name))
        if tracked is not None:
            try:
                os.killpg(tracked.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_the_api_needs_trino_and_redis(tmp_path: Path) -> None:
    stack = Stack(Settings(home=tmp_path))
    assert stack.resolve(["api"]) == [n for n in stack.names
                                      if n in {"postgres", "s3", "redis", "trino", "api"}]


def test_a_service_start_deadline_runs_from_when_what_it_needs_is_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Trino slower than the API's whole timeout (the cluster profile on two busy cores): the
    API's deadline starts once Trino is healthy, so `up` succeeds."""
    stack, seen = _fake_stack(tmp_path, monkeypatch, trino_ready_after=1.5, api_timeout=1.0)
    try:
        result = stack.up(["api"], bootstrap_steps=False)
    finally:
        _stop(stack)
    assert set(result.started) == {"postgres", "s3", "redis", "trino", "api"}
    assert seen["trino"] > 1.0  # longer than the API's timeout


def test_a_service_whose_dependency_fails_is_not_waited_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stack, _ = _fake_stack(tmp_path, monkeypatch, trino_ready_after=60, api_timeout=30)
    stack.services["trino"].start_timeout = 0.5  # type: ignore[attr-defined]
    try:
        with pytest.raises(ServiceError) as info:
            stack.up(["api"], bootstrap_steps=False)
    finally:
        _stop(stack)
    assert info.value.service == "trino" and "not healthy after" in info.value.cause


def test_a_service_not_waited_for_is_started_and_its_dependents_go_ahead(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`up --no-wait trino` (make demo): Trino is started, not waited for; the API, which
    needs it, does not wait for it either and is healthy at once."""
    import time

    stack, seen = _fake_stack(tmp_path, monkeypatch, trino_ready_after=60, api_timeout=5)
    stack.services["api"] = _Fake("api", stack.layout, lambda: True, 5)  # type: ignore[assignment]
    stack.services["trino"].start_timeout = 0.5  # type: ignore[attr-defined]
    t0 = time.monotonic()
    try:
        result = stack.up(["api"], bootstrap_steps=False, no_wait=["trino"])
        assert set(result.started) == {"postgres", "s3", "redis", "trino", "api"}
        assert time.monotonic() - t0 < 5  # neither Trino's 60 s nor its 0.5 s deadline failed it
        assert "trino" not in seen
        # a plain `up` then waits for it, and reports it is not healthy
        with pytest.raises(ServiceError) as info:
            stack.up(["api"], bootstrap_steps=False)
        assert info.value.service == "trino"
        with pytest.raises(ServiceError, match="not being started"):
            stack.up(["redis"], bootstrap_steps=False, no_wait=["trino"])
    finally:
        _stop(stack)


def _fake_jdk(tmp_path: Path, version: int) -> Path:
    """A `java` that reports ``version`` and accepts an AOT cache (-XX:AOTMode=on) only when the
    file says "usable", as a real JDK refuses a truncated cache or one of another build."""
    java = tmp_path / f"jdk{version}" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(
        "#!/bin/sh\n"
        'case "$1" in -XshowSettings*) echo "    java.specification.version = '
        f'{version}" >&2; exit 0;; --list-modules) exit 0;; esac\n'
        'for a in "$@"; do case "$a" in -XX:AOTCache=*) f="${a#-XX:AOTCache=}";; esac; done\n'
        '[ -n "$f" ] && grep -qx usable "$f"\n'
    )
    java.chmod(0o755)
    return java.parent.parent


def _trino(tmp_path: Path, version: int = 25, **trino: object) -> Any:
    from cryptolake.core.stack.services import Trino

    settings = Settings(home=tmp_path / "home")
    settings.trino.java_home = _fake_jdk(tmp_path, version)
    for key, value in trino.items():
        setattr(settings.trino, key, value)
    svc = Trino(settings, Stack(settings).layout)
    svc.layout.ensure()
    return svc


def _aot_flags(command: list[str]) -> list[str]:
    return [a for a in command if a.startswith("-XX:AOTCache")]


def test_trino_records_an_aot_cache_then_maps_it_from_the_shared_tree(tmp_path: Path) -> None:
    svc = _trino(tmp_path)
    shared, recorded = svc.aot_cache_paths()
    assert shared.parent == svc.layout.opt / "aot" and recorded.parent == svc.data_dir
    svc.prepare()
    # no cache yet: this run records one, written when it exits
    assert _aot_flags(svc.launch().command) == [f"-XX:AOTCacheOutput={recorded}"]
    recorded.write_text("usable\n")
    (recorded.parent / (recorded.name + ".config")).write_text("leftover")
    svc.prepare()  # the next start checks it and moves it to the shared tree
    assert shared.read_text() == "usable\n" and not recorded.exists()
    assert not (recorded.parent / (recorded.name + ".config")).exists()
    assert _aot_flags(svc.launch().command) == [f"-XX:AOTCache={shared}"]
    svc.prepare()  # and later starts keep mapping it
    assert _aot_flags(svc.launch().command) == [f"-XX:AOTCache={shared}"]


def test_an_aot_cache_the_jvm_refuses_is_dropped_and_recorded_again(tmp_path: Path) -> None:
    svc = _trino(tmp_path)
    shared, recorded = svc.aot_cache_paths()
    recorded.parent.mkdir(parents=True, exist_ok=True)
    recorded.write_bytes(b"truncated")  # the recording run was killed while writing it
    svc.prepare()
    assert not recorded.exists() and not shared.exists()
    shared.parent.mkdir(parents=True, exist_ok=True)
    shared.write_text("made by another JDK build\n")
    svc.prepare()
    assert not shared.exists()
    assert _aot_flags(svc.launch().command) == [f"-XX:AOTCacheOutput={recorded}"]


def test_no_aot_cache_when_it_is_off_or_the_jdk_predates_it(tmp_path: Path) -> None:
    off = _trino(tmp_path / "off", aot_cache=False)
    off.prepare()
    assert off.aot_cache_paths() is None and _aot_flags(off.launch().command) == []
    old = _trino(tmp_path / "24", version=24)
    old.prepare()
    assert old.aot_cache_paths() is None and _aot_flags(old.launch().command) == []


def test_the_worker_nodes_have_their_own_aot_cache(tmp_path: Path) -> None:
    from cryptolake.core.stack.services import TrinoWorker

    coordinator = _trino(tmp_path)
    worker = TrinoWorker(coordinator.settings, coordinator.layout, 0)
    paths = worker.aot_cache_paths()
    assert paths is not None
    (c_shared, c_rec), (w_shared, w_rec) = coordinator.aot_cache_paths(), paths
    assert c_shared != w_shared and c_rec != w_rec
    assert Stack(coordinator.settings).services["trino"].stop_timeout >= 60  # time to write it
