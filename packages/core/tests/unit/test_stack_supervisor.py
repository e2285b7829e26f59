"""The process supervisor: pid files that survive pid reuse, stop by group, port holders."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

from cryptolake.core.stack import _supervisor


def _start_sleeper(tmp_path: Path) -> Path:
    pidfile = tmp_path / "run" / "sleeper.json"
    _supervisor.start(
        "sleeper",
        [sys.executable, "-c", "import time; time.sleep(60)"],
        pidfile=pidfile,
        log=tmp_path / "logs" / "sleeper.log",
        cwd=tmp_path,
    )
    return pidfile


def test_start_records_pid_and_start_time_and_stop_ends_it(tmp_path: Path) -> None:
    pidfile = _start_sleeper(tmp_path)
    tracked = _supervisor.running(pidfile)
    assert tracked is not None and tracked.alive()
    assert tracked.start_ticks > 0
    assert _supervisor.rss_bytes(tracked.pid) > 0
    assert _supervisor.stop(pidfile, timeout=5)
    assert not tracked.alive() and not pidfile.exists()
    assert "starting sleeper" in (tmp_path / "logs" / "sleeper.log").read_text()


def test_a_recycled_pid_is_not_ours(tmp_path: Path) -> None:
    pidfile = tmp_path / "x.json"
    # our own pid, but a different start time: must never be treated (or signalled) as ours
    pidfile.write_text(
        json.dumps(
            {
                "service": "x",
                "pid": os.getpid(),
                "start_ticks": 1,
                "command": ["x"],
                "started_at": 0.0,
            }
        )
    )
    assert _supervisor.running(pidfile) is None
    assert not pidfile.exists()
    assert _supervisor.stop(pidfile) is False


def test_stop_without_a_pidfile_does_nothing(tmp_path: Path) -> None:
    assert _supervisor.stop(tmp_path / "none.json") is False


def test_port_holder_names_the_listening_process() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        holder = _supervisor.port_holder(port)
    assert holder is not None and holder.startswith(f"pid {os.getpid()} ")


def test_a_free_port_has_no_holder() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert _supervisor.port_holder(port) is None
