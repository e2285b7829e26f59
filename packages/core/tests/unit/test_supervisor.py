"""The one process supervisor (``cryptolake.core.supervisor``), as the stack services and the
Spark stream job use it: pid files that survive pid reuse, stop by group, recovery after kill -9,
port holders, resident memory."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from cryptolake.core import supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
#: a leader that starts a child in its own group (a postmaster and its backends, a Python driver
#: and its JVM), prints the child's pid, then waits
FAMILY = [
    sys.executable, "-c",
    "import subprocess, sys, time\n"
    "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "print(c.pid, flush=True)\n"
    "time.sleep(60)\n",
]


def _start(tmp_path: Path, name: str = "sleeper", command: list[str] = SLEEPER) -> Path:
    pidfile = tmp_path / "run" / f"{name}.json"
    supervisor.start(name, command, pidfile=pidfile, log=tmp_path / "logs" / f"{name}.log",
                     cwd=tmp_path)
    return pidfile


def _wait(condition, what: str, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _child_of(log: Path) -> int:
    _wait(lambda: log.read_text().strip().splitlines()[-1].isdigit(), "the child's pid")
    return int(log.read_text().strip().splitlines()[-1])


def test_start_records_pid_and_creation_time_and_stop_ends_it(tmp_path: Path) -> None:
    pidfile = _start(tmp_path)
    tracked = supervisor.running(pidfile)
    assert tracked is not None and tracked.alive()
    assert tracked.create_time == pytest.approx(psutil.Process(tracked.pid).create_time())
    assert supervisor.rss_bytes(tracked.pid) > 1_000_000
    assert supervisor.stop(pidfile, timeout=5)
    assert not tracked.alive() and not pidfile.exists()
    assert "starting sleeper" in (tmp_path / "logs" / "sleeper.log").read_text()


def test_a_recycled_pid_is_not_ours_and_is_never_signalled(tmp_path: Path) -> None:
    pidfile = tmp_path / "x.json"
    # our own pid, but a different creation time
    pidfile.write_text(json.dumps({"service": "x", "pid": os.getpid(), "create_time": 1.0,
                                   "command": ["x"], "started_at": 0.0}))
    assert supervisor.running(pidfile) is None
    assert not pidfile.exists()
    pidfile.write_text(json.dumps({"service": "x", "pid": os.getpid(), "create_time": 1.0}))
    assert supervisor.stop(pidfile) is False
    assert supervisor.kill(pidfile) is False  # and we are still here


def test_a_pid_file_of_the_previous_format_still_names_its_process(tmp_path: Path) -> None:
    """Services started before the upgrade recorded /proc start ticks; they stay ours."""
    proc = subprocess.Popen(SLEEPER, start_new_session=True)
    try:
        ticks = round((psutil.Process(proc.pid).create_time() - psutil.boot_time())
                      * os.sysconf("SC_CLK_TCK"))
        pidfile = tmp_path / "stream-y.json"
        pidfile.write_text(json.dumps({"pid": proc.pid, "start_ticks": ticks, "started_at": 0}))
        tracked = supervisor.running(pidfile)
        assert tracked is not None and tracked.pid == proc.pid and tracked.service == "stream-y"
        pidfile.write_text(json.dumps({"pid": proc.pid, "start_ticks": ticks + 1000}))
        assert supervisor.running(pidfile) is None
    finally:
        proc.kill()
        proc.wait()


def test_stop_without_a_pidfile_does_nothing(tmp_path: Path) -> None:
    assert supervisor.stop(tmp_path / "none.json") is False
    assert supervisor.kill(tmp_path / "none.json") is False


def test_stop_ends_the_whole_group(tmp_path: Path) -> None:
    pidfile = _start(tmp_path, "family", FAMILY)
    child = _child_of(tmp_path / "logs" / "family.log")
    tracked = supervisor.running(pidfile)
    assert tracked is not None and child in supervisor.group_pids(tracked.pid)
    assert supervisor.stop(pidfile, timeout=5)
    _wait(lambda: not psutil.pid_exists(child) or
          psutil.Process(child).status() == psutil.STATUS_ZOMBIE, "the child to die")


def test_a_leader_that_ignores_sigterm_is_killed_after_the_timeout(tmp_path: Path) -> None:
    stubborn = [sys.executable, "-c",
                "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('ready', flush=True); time.sleep(60)"]
    pidfile = _start(tmp_path, "stubborn", stubborn)
    log = tmp_path / "logs" / "stubborn.log"
    _wait(lambda: "ready" in log.read_text(), "the handler to be installed")
    tracked = supervisor.running(pidfile)
    assert tracked is not None
    t0 = time.monotonic()
    assert supervisor.stop(pidfile, timeout=0.5)
    assert not tracked.alive() and time.monotonic() - t0 < 10


@pytest.mark.parametrize("user", ["stack service", "stream job"])
def test_kill_9_recovery(tmp_path: Path, user: str) -> None:
    """A supervised process killed with SIGKILL — a stack service by ``kill -9`` from outside,
    the stream job by :func:`supervisor.kill` (what ``kill_stream`` does) — is found dead: its
    zombie is reaped, its pid file removed, and it starts again under a new identity."""
    name = "postgres" if user == "stack service" else "stream-bronze"
    pidfile = _start(tmp_path, name, FAMILY)
    child = _child_of(tmp_path / "logs" / f"{name}.log")
    before = supervisor.running(pidfile)
    assert before is not None
    if user == "stack service":
        os.kill(before.pid, signal.SIGKILL)
        # our child, not yet reaped: a zombie whose pid still looks taken
        _wait(lambda: psutil.Process(before.pid).status() == psutil.STATUS_ZOMBIE, "the zombie")
    else:
        assert supervisor.kill(pidfile)
        _wait(lambda: not psutil.pid_exists(child), "the group to die")
    assert supervisor.running(pidfile) is None
    assert not pidfile.exists()
    with pytest.raises(ChildProcessError):
        os.waitpid(before.pid, os.WNOHANG)  # reaped: nothing left to wait for
    # a stack service's backends outlive their leader's kill -9: the group is still there to kill
    for pid in supervisor.group_pids(before.pid):
        os.kill(pid, signal.SIGKILL)
    after_file = _start(tmp_path, name, SLEEPER)
    after = supervisor.running(after_file)
    assert after is not None and after.pid != before.pid
    assert supervisor.stop(after_file, timeout=5)


def test_adopt_takes_back_a_process_whose_pid_file_was_lost(tmp_path: Path) -> None:
    proc = subprocess.Popen(SLEEPER, start_new_session=True)
    try:
        pidfile = tmp_path / "run" / "lost.json"
        record = supervisor.adopt("lost", proc.pid, pidfile)
        assert record is not None and record.command == SLEEPER
        assert supervisor.running(pidfile) == record
        assert supervisor.stop(pidfile, timeout=5)
        assert proc.wait(5) is not None
    finally:
        if proc.poll() is None:
            proc.kill()


def test_port_holder_names_the_listening_process() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert supervisor.port_holder_pid(port) == os.getpid()
        holder = supervisor.port_holder(port)
    assert holder is not None and holder.startswith(f"pid {os.getpid()} ")


def test_a_free_port_has_no_holder() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert supervisor.port_holder(port) is None
