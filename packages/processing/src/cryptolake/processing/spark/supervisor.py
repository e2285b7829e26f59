"""The Bronze stream as a supervised long-lived process: start, stop, status.

``start_stream`` launches ``python -m cryptolake.processing.spark.supervisor run`` in its own
session (output appended to ``$CRYPTOLAKE_HOME/logs/stream-<name>.log``) and records its pid and
process start time in ``$CRYPTOLAKE_HOME/run/stream-<name>.json``, so a recycled pid is never
mistaken for it. Inside, :func:`~cryptolake.processing.spark.stream.run_forever` restarts the query
after a failure (with backoff, up to ``max_restarts`` an hour) and stops cleanly on SIGTERM.
``stop_stream`` sends SIGTERM and, after ``timeout``, SIGKILL — both safe: the stream is exactly
once whatever moment it dies.

The CLI calls these three functions: ``cryptolake stream start|stop|status``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptolake.core.settings import Settings, get_settings
from cryptolake.processing.spark.stream import StreamConfig, read_status, status_path

log = logging.getLogger(__name__)


@dataclass
class StreamStatus:
    name: str
    running: bool
    pid: int | None = None
    state: str = "stopped"
    log: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _paths(settings: Settings, name: str) -> tuple[Path, Path]:
    return (settings.home / "run" / f"stream-{name}.json",
            settings.home / "logs" / f"stream-{name}.log")


def _start_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return None if fields[0] == "Z" else int(fields[19])


def _tracked(pidfile: Path) -> dict[str, Any] | None:
    """Our live process for ``pidfile`` or None; a stale pid file is removed."""
    try:
        record = json.loads(pidfile.read_text())
    except (OSError, ValueError):
        return None
    if _start_ticks(int(record["pid"])) == record.get("start_ticks"):
        return dict(record)
    pidfile.unlink(missing_ok=True)
    return None


def is_running(name: str = "bronze", settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    return _tracked(_paths(settings, name)[0]) is not None


def stream_status(name: str = "bronze", settings: Settings | None = None) -> StreamStatus:
    """Whether the stream runs, its pid, and what it last did (batch id, rows, errors)."""
    settings = settings or get_settings()
    pidfile, logfile = _paths(settings, name)
    record = _tracked(pidfile)
    details = read_status(settings, name)
    state = str(details.get("state", "stopped"))
    if record is None and state not in ("stopped", "failed"):
        state = "dead" if details else "stopped"
    return StreamStatus(name=name, running=record is not None,
                        pid=record["pid"] if record else None, state=state,
                        log=str(logfile), details=details)


def start_stream(
    config: StreamConfig | None = None,
    settings: Settings | None = None,
    *,
    wait_running: float = 0.0,
) -> StreamStatus:
    """Start the stream process unless it already runs. With ``wait_running`` > 0, wait up to
    that many seconds for its query to be running (Spark takes a while to start on 2 cores)."""
    settings = settings or get_settings()
    config = config or StreamConfig()
    pidfile, logfile = _paths(settings, config.name)
    if _tracked(pidfile) is not None:
        return stream_status(config.name, settings)
    status_path(settings, config.name).unlink(missing_ok=True)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    logfile.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "cryptolake.processing.spark.supervisor", "run",
               "--config", config.model_dump_json()]
    env = {**os.environ, "CRYPTOLAKE_HOME": str(settings.home),
           "CRYPTOLAKE_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
           "CRYPTOLAKE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers}
    with logfile.open("ab") as out:
        out.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} starting stream "
                  f"{config.name}\n".encode())
        out.flush()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    ticks = None
    for _ in range(100):
        ticks = _start_ticks(proc.pid)
        if ticks is not None:
            break
        time.sleep(0.01)
    record = {"pid": proc.pid, "start_ticks": ticks, "started_at": time.time(),
              "command": command[:4]}
    tmp = pidfile.with_suffix(".tmp")
    tmp.write_text(json.dumps(record))
    tmp.replace(pidfile)
    log.info("stream %s started (pid %d), log %s", config.name, proc.pid, logfile)
    deadline = time.monotonic() + wait_running
    while time.monotonic() < deadline:
        status = stream_status(config.name, settings)
        if not status.running or status.state in ("running", "failed"):
            return status
        time.sleep(0.5)
    return stream_status(config.name, settings)


def stop_stream(name: str = "bronze", settings: Settings | None = None, *,
                timeout: float = 60.0) -> StreamStatus:
    """SIGTERM the stream process, SIGKILL it after ``timeout``; returns the final status."""
    settings = settings or get_settings()
    pidfile, _ = _paths(settings, name)
    record = _tracked(pidfile)
    if record is None:
        return stream_status(name, settings)
    pid = int(record["pid"])
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _tracked(pidfile) is not None:
        _reap(pid)
        time.sleep(0.2)
    if _tracked(pidfile) is not None:
        log.warning("stream %s did not stop in %.0fs; killing it", name, timeout)
        kill_stream(name, settings)
    pidfile.unlink(missing_ok=True)
    return stream_status(name, settings)


def kill_stream(name: str = "bronze", settings: Settings | None = None) -> bool:
    """SIGKILL the stream process group at once (what a crash looks like). True if one ran."""
    settings = settings or get_settings()
    pidfile, _ = _paths(settings, name)
    record = _tracked(pidfile)
    if record is None:
        return False
    pid = int(record["pid"])
    try:
        os.killpg(pid, signal.SIGKILL)  # the JVM child dies with its Python parent
    except ProcessLookupError:
        pass
    for _ in range(100):
        _reap(pid)
        if _start_ticks(pid) is None:
            break
        time.sleep(0.1)
    pidfile.unlink(missing_ok=True)
    return True


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cryptolake.processing.spark.supervisor")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the stream in the foreground (what `start` launches)")
    run.add_argument("--config", default="{}", help="StreamConfig as JSON")
    for cmd in ("start", "stop", "status"):
        p = sub.add_parser(cmd)
        p.add_argument("--name", default="bronze")
    args = parser.parse_args(argv)
    from cryptolake.core.logging import configure

    configure()
    if args.command == "run":
        from cryptolake.processing.spark.stream import run_forever

        return run_forever(StreamConfig.model_validate(json.loads(args.config)))
    if args.command == "start":
        status = start_stream(StreamConfig(name=args.name), wait_running=0)
    elif args.command == "stop":
        status = stop_stream(args.name)
    else:
        status = stream_status(args.name)
    print(json.dumps(status.as_dict(), indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
