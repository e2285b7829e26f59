"""The Bronze stream as a supervised long-lived process: start, stop, status.

``start_stream`` launches ``python -m cryptolake.processing.spark._stream_process`` through the
core's one process supervisor (:mod:`cryptolake.core.supervisor`): in its own session, output
appended to ``$CRYPTOLAKE_HOME/logs/stream-<name>.log``, its pid and creation time recorded in
``$CRYPTOLAKE_HOME/run/stream-<name>.json``, so a recycled pid is never mistaken for it. Inside,
:func:`~cryptolake.processing.spark.stream.run_forever` restarts the query after a failure (with
backoff, up to ``max_restarts`` an hour) and stops cleanly on SIGTERM. ``stop_stream`` sends
SIGTERM and, after ``timeout``, SIGKILL — both safe: the stream is exactly once whatever moment it
dies. ``kill_stream`` is what a crash looks like (SIGKILL to the process group).

The CLI calls these functions: ``cryptolake stream start|stop|status``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptolake.core import supervisor
from cryptolake.core.settings import Settings, get_settings
from cryptolake.processing.spark._stream_state import (
    StreamConfig,
    read_status,
    status_path,
    write_status,
)

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


def is_running(name: str = "bronze", settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    return supervisor.running(_paths(settings, name)[0]) is not None


def stream_status(name: str = "bronze", settings: Settings | None = None) -> StreamStatus:
    """Whether the stream runs, its pid, and what it last did (batch id, rows, errors)."""
    settings = settings or get_settings()
    pidfile, logfile = _paths(settings, name)
    record = supervisor.running(pidfile)
    details = read_status(settings, name)
    state = str(details.get("state", "stopped"))
    if record is None and state not in ("stopped", "failed"):
        state = "dead" if details else "stopped"
    elif record is not None and not details:
        state = "starting"  # launched; its process has not written a status yet
    return StreamStatus(name=name, running=record is not None,
                        pid=record.pid if record else None, state=state,
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
    if supervisor.running(pidfile) is not None:
        return stream_status(config.name, settings)
    status_path(settings, config.name).unlink(missing_ok=True)
    command = [sys.executable, "-m", "cryptolake.processing.spark._stream_process",
               "--config", config.model_dump_json()]
    env = {**os.environ, "CRYPTOLAKE_HOME": str(settings.home),
           "CRYPTOLAKE_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
           "CRYPTOLAKE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers}
    proc = supervisor.start(f"stream {config.name}", command, pidfile=pidfile, log=logfile,
                            env=env)
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
    """SIGTERM the stream process, SIGKILL it after ``timeout``; returns the final status.

    A stream that is dead (killed, or it crashed) is recorded as stopped on purpose, like one
    that stopped on the signal: the worker's stream check restarts a dead stream, not a stopped
    one."""
    settings = settings or get_settings()
    pidfile, _ = _paths(settings, name)
    supervisor.stop(pidfile, timeout=timeout)
    status = stream_status(name, settings)
    if not status.running and status.state == "dead":
        write_status(settings, name, state="stopped", phase="stopped")
        status = stream_status(name, settings)
    return status


def kill_stream(name: str = "bronze", settings: Settings | None = None) -> bool:
    """SIGKILL the stream process group at once (what a crash looks like). True if one ran."""
    settings = settings or get_settings()
    return supervisor.kill(_paths(settings, name)[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cryptolake.processing.spark.supervisor")
    sub = parser.add_subparsers(dest="command", required=True)
    for cmd in ("start", "stop", "status"):
        p = sub.add_parser(cmd)
        p.add_argument("--name", default="bronze")
    args = parser.parse_args(argv)
    from cryptolake.core.logging import configure

    configure()
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
