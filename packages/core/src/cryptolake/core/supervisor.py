"""Start, track and stop long-lived local processes through pid files — the one supervisor.

Used by the stack services (``cryptolake stack up|down|status``) and by the Spark stream job
(``cryptolake stream start|stop|status``). Needs the ``stack`` extra (psutil)::

    pip install 'cryptolake-core[stack]'

A pid file records the pid *and* the process's creation time (psutil's ``create_time()``), so a
recycled pid is never mistaken for ours and :func:`stop` never signals a stranger. A process
started here runs in its own session: it is the leader of a process group, and :func:`stop` /
:func:`kill` end the whole group (PostgreSQL backends, the JVM under a Python driver).

When a tracked process has died (``kill -9``, a crash) its pid file is *stale*: :func:`running`
reaps the zombie when this process is its parent (a zombie's pid still looks taken — PostgreSQL's
``postmaster.pid`` check would refuse to start), removes the file and returns ``None``, so the
caller starts it afresh.

.. versionadded:: 0.2
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

#: Two creation times closer than this are the same process (psutil derives them from clock
#: ticks since boot: exact to 1/CLK_TCK).
_SAME_START_S = 0.05

__all__ = [
    "Tracked",
    "adopt",
    "cmdline",
    "group_pids",
    "kill",
    "port_holder",
    "port_holder_pid",
    "read_pidfile",
    "rss_bytes",
    "running",
    "start",
    "stop",
    "write_pidfile",
]


def _create_time(pid: int) -> float | None:
    """When ``pid`` was created, or ``None`` when it is gone (a zombie counts as gone)."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return float(proc.create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def _legacy_create_time(start_ticks: int) -> float:
    """A pid file written before 0.2 holds ``/proc/<pid>/stat`` start ticks: convert them the
    way psutil computes ``create_time()`` (boot time + ticks / CLK_TCK)."""
    return float(psutil.boot_time()) + start_ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Tracked:
    """One supervised process: what a pid file holds."""

    service: str
    pid: int
    create_time: float
    command: list[str] = field(default_factory=list)
    started_at: float = 0.0

    def alive(self) -> bool:
        """True while the very process we started runs (not a zombie, not a recycled pid)."""
        now = _create_time(self.pid)
        return now is not None and abs(now - self.create_time) < _SAME_START_S

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def write_pidfile(pidfile: Path, record: Tracked) -> None:
    """Write ``record`` atomically (a reader sees the old file or the new one)."""
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    tmp = pidfile.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record.as_dict()))
    tmp.replace(pidfile)


def read_pidfile(path: Path) -> Tracked | None:
    """The record in ``path``, or ``None`` when there is none or it is unreadable."""
    try:
        raw = json.loads(path.read_text())
        if "create_time" not in raw and raw.get("start_ticks") is not None:
            raw["create_time"] = _legacy_create_time(int(raw["start_ticks"]))
        return Tracked(
            service=str(raw.get("service") or path.stem),
            pid=int(raw["pid"]),
            create_time=float(raw["create_time"]),
            command=list(raw.get("command") or []),
            started_at=float(raw.get("started_at") or 0.0),
        )
    except (OSError, ValueError, TypeError, KeyError):
        return None


def running(pidfile: Path) -> Tracked | None:
    """Our live process for this pid file, or ``None`` (a stale pid file is reaped and removed)."""
    tracked = read_pidfile(pidfile)
    if tracked is None:
        return None
    if tracked.alive():
        return tracked
    _reap(tracked.pid)
    pidfile.unlink(missing_ok=True)
    return None


def start(
    service: str,
    command: Sequence[str],
    *,
    pidfile: Path,
    log: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, output appended to ``log``, and record it."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(
            f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {service}: "
            f"{' '.join(command)}\n".encode()
        )
        out.flush()
        proc = subprocess.Popen(
            list(command),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            user=user,
        )
    created = _create_time(proc.pid)
    if created is None:  # it died at once; record it anyway, so `running` reports it dead
        created = 0.0
    write_pidfile(pidfile, Tracked(service, proc.pid, created, list(command), time.time()))
    return proc


def group_pids(pgid: int) -> list[int]:
    """The live (non-zombie) processes of process group ``pgid``."""
    found = []
    for proc in psutil.process_iter(["status"]):
        try:
            if proc.info["status"] == psutil.STATUS_ZOMBIE or os.getpgid(proc.pid) != pgid:
                continue
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
        found.append(proc.pid)
    return found


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(pid: int) -> None:
    """Collect ``pid``'s exit status when it is our child (else nothing to do)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _wait_gone(tracked: Tracked, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        _reap(tracked.pid)
        if not tracked.alive():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def stop(pidfile: Path, *, timeout: float = 30.0, sig: int = signal.SIGTERM) -> bool:
    """Stop our process gracefully (``sig``), forcibly after ``timeout``, then what is left of
    its group. True if one ran."""
    tracked = running(pidfile)
    if tracked is None:
        pidfile.unlink(missing_ok=True)
        return False
    _signal(tracked.pid, sig)
    if not _wait_gone(tracked, timeout, step=0.2):
        for pid in [tracked.pid, *group_pids(tracked.pid)]:
            _signal(pid, signal.SIGKILL)
        _wait_gone(tracked, 5.0)
    # children left in the group (e.g. PostgreSQL backends) follow their parent
    for pid in group_pids(tracked.pid):
        _signal(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)
    return True


def kill(pidfile: Path, *, timeout: float = 10.0) -> bool:
    """SIGKILL our process and its whole group at once — what a crash looks like. True if one
    ran. The pid file is removed."""
    tracked = running(pidfile)
    if tracked is None:
        return False
    try:
        os.killpg(tracked.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        _signal(tracked.pid, signal.SIGKILL)
    _wait_gone(tracked, timeout)
    pidfile.unlink(missing_ok=True)
    return True


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and the rest of its process group, in bytes."""
    total = 0
    for p in {pid, *group_pids(pid)}:
        try:
            total += int(psutil.Process(p).memory_info().rss)
        except psutil.Error:
            continue
    return total


def cmdline(pid: int) -> list[str]:
    """The command line of ``pid`` (empty when it is gone or not readable)."""
    try:
        return list(psutil.Process(pid).cmdline())
    except psutil.Error:
        return []


def adopt(service: str, pid: int, pidfile: Path) -> Tracked | None:
    """Record a running process as ours again (its pid file was lost); None if it is gone."""
    created = _create_time(pid)
    if created is None:
        return None
    record = Tracked(service, pid, created, cmdline(pid), time.time())
    write_pidfile(pidfile, record)
    return record


def port_holder_pid(port: int) -> int | None:
    """The pid of the process listening on TCP ``port``, when it can be found."""
    try:
        conns = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return None
    for conn in conns:
        listening = conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port
        if listening and conn.pid is not None:
            return int(conn.pid)
    return None


def port_holder(port: int) -> str | None:
    """Who listens on TCP ``port`` on this machine: 'pid N (name)', 'another process', or None."""
    pid = port_holder_pid(port)
    if pid is not None:
        try:
            name = psutil.Process(pid).name()
        except psutil.Error:
            name = "?"
        return f"pid {pid} ({name})"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return "another process"
    return None
