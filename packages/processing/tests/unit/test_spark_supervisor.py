"""Stream process control without Spark: status of a stopped stream, stale pid files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cryptolake.core.settings import Settings
from cryptolake.processing.spark import kill_stream, stop_stream, stream_status
from cryptolake.processing.spark._stream_state import read_status, write_status


def test_a_stream_never_started_is_stopped(cryptolake_settings: Settings) -> None:
    status = stream_status("bronze", cryptolake_settings)
    assert not status.running and status.pid is None and status.state == "stopped"
    assert stop_stream("bronze", cryptolake_settings).running is False
    assert kill_stream("bronze", cryptolake_settings) is False


def _killed_stream(settings: Settings, name: str, last_batch_id: int) -> Path:
    """A stream that was running (its pid file and status say so) when it was killed -9."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    pidfile = settings.home / "run" / f"stream-{name}.json"
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.write_text(json.dumps({"pid": proc.pid, "start_ticks": 1, "started_at": 0}))
    write_status(settings, name, state="running", last_batch_id=last_batch_id)
    return pidfile


def test_a_dead_process_is_reported_dead_and_its_pid_file_removed(
    cryptolake_settings: Settings,
) -> None:
    pidfile = _killed_stream(cryptolake_settings, "x", 7)
    status = stream_status("x", cryptolake_settings)
    assert not status.running and status.state == "dead"
    assert status.details["last_batch_id"] == 7
    assert not pidfile.exists()


def test_a_live_process_with_our_start_time_counts_as_running(
    cryptolake_settings: Settings,
) -> None:
    import psutil

    from cryptolake.core import supervisor

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"],
                            start_new_session=True)
    try:
        pidfile = cryptolake_settings.home / "run" / "stream-y.json"
        created = psutil.Process(proc.pid).create_time()
        supervisor.write_pidfile(pidfile, supervisor.Tracked("stream y", proc.pid, created))
        status = stream_status("y", cryptolake_settings)
        # launched, no status written yet (its Spark driver is still starting): not "stopped"
        assert status.running and status.state == "starting"
        write_status(cryptolake_settings, "y", state="running")
        assert stream_status("y", cryptolake_settings).state == "running"
        # a recycled pid (different start time) is not ours
        supervisor.write_pidfile(pidfile, supervisor.Tracked("stream y", proc.pid, created - 5))
        assert not stream_status("y", cryptolake_settings).running
        supervisor.write_pidfile(pidfile, supervisor.Tracked("stream y", proc.pid, created))
        assert kill_stream("y", cryptolake_settings) is True
        proc.wait(10)
        assert not psutil.pid_exists(proc.pid)
        assert not stream_status("y", cryptolake_settings).running
    finally:
        if proc.poll() is None:
            proc.kill()


def test_status_file_merges_updates(cryptolake_settings: Settings) -> None:
    write_status(cryptolake_settings, "z", state="running", batches=1)
    write_status(cryptolake_settings, "z", batches=2)
    got = read_status(cryptolake_settings, "z")
    assert got["state"] == "running" and got["batches"] == 2 and "updated_at" in got



def test_check_stream_leaves_a_stream_that_was_never_started_or_stopped_on_purpose(
    cryptolake_settings: Settings,
) -> None:
    from cryptolake.processing.spark.stream import BronzeStream, StreamConfig

    job = BronzeStream(StreamConfig(name="w"))
    assert job.ensure_running(cryptolake_settings) is False  # never started
    write_status(cryptolake_settings, "w", state="stopped")
    assert job.ensure_running(cryptolake_settings) is False  # `stream stop`
    assert not stream_status("w", cryptolake_settings).running


def test_stop_of_a_dead_stream_records_it_as_stopped_so_the_check_leaves_it(
    cryptolake_settings: Settings,
) -> None:
    from cryptolake.processing.spark.stream import BronzeStream, StreamConfig

    _killed_stream(cryptolake_settings, "d", 3)
    assert stream_status("d", cryptolake_settings).state == "dead"
    status = stop_stream("d", cryptolake_settings)
    assert not status.running and status.state == "stopped"
    assert status.details["last_batch_id"] == 3  # what it last did is kept
    assert BronzeStream(StreamConfig(name="d")).ensure_running(cryptolake_settings) is False
