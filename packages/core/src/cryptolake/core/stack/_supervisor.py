"""Start, track and stop local service processes through pid files.

A pid file records the pid *and* the process's start time (field 22 of ``/proc/<pid>/stat``), so a
recycled pid is never mistaken for ours and ``down`` never signals a stranger.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


def _start_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name may contain spaces and parentheses: split after the last ')'
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # zombie: gone for our purposes
        return None
    return int(fields[19])


@dataclass
class Tracked:
    service: str
    pid: int
    start_ticks: int
    command: list[str]
    started_at: float

    def alive(self) -> bool:
        return _start_ticks(self.pid) == self.start_ticks


def read_pidfile(path: Path) -> Tracked | None:
    try:
        raw = json.loads(path.read_text())
        return Tracked(**raw)
    except (OSError, ValueError, TypeError):
        return None


def running(pidfile: Path) -> Tracked | None:
    """Our live process for this pid file, or None (a stale pid file is removed)."""
    tracked = read_pidfile(pidfile)
    if tracked is None:
        return None
    if tracked.alive():
        return tracked
    # Dead. When this process started it, it is our zombie child until reaped, and its pid
    # still looks taken (PostgreSQL's postmaster.pid check would refuse to start).
    _reap(tracked.pid)
    pidfile.unlink(missing_ok=True)
    return None


def start(
    service: str,
    command: Sequence[str],
    *,
    pidfile: Path,
    log: Path,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, output appended to ``log``, and record it."""
    log.parent.mkdir(parents=True, exist_ok=True)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
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
    ticks = None
    for _ in range(50):
        ticks = _start_ticks(proc.pid)
        if ticks is not None:
            break
        time.sleep(0.01)
    record = Tracked(service, proc.pid, ticks or 0, list(command), time.time())
    tmp = pidfile.with_suffix(".tmp")
    tmp.write_text(json.dumps(record.__dict__))
    tmp.replace(pidfile)
    return proc


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


def stop(pidfile: Path, *, timeout: float = 30.0, sig: int = signal.SIGTERM) -> bool:
    """Stop our process (and its process group) gracefully, then forcibly. True if one ran."""
    tracked = running(pidfile)
    if tracked is None:
        pidfile.unlink(missing_ok=True)
        return False
    pid = tracked.pid
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and tracked.alive():
        _reap(pid)
        time.sleep(0.2)
    if tracked.alive():
        for p in [pid, *_group_pids(pid)]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for _ in range(50):
            _reap(pid)
            if not tracked.alive():
                break
            time.sleep(0.1)
    # children left in the group (e.g. PostgreSQL backends) follow their parent
    for p in _group_pids(pid):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    pidfile.unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and the rest of its process group."""
    total = 0
    for p in {pid, *_group_pids(pid)}:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def port_holder(port: int) -> str | None:
    """Who listens on TCP ``port`` on this machine: 'pid N (name)', 'another process', or None."""
    pid = port_holder_pid(port)
    if pid is not None:
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            name = "?"
        return f"pid {pid} ({name})"
    return _bind_test(port)


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def adopt(service: str, pid: int, pidfile: Path) -> Tracked | None:
    """Record a running process as ours again (its pid file was lost); None if it is gone."""
    ticks = _start_ticks(pid)
    if ticks is None:
        return None
    record = Tracked(service, pid, ticks, cmdline(pid), time.time())
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    tmp = pidfile.with_suffix(".tmp")
    tmp.write_text(json.dumps(record.__dict__))
    tmp.replace(pidfile)
    return record


def port_holder_pid(port: int) -> int | None:
    """The pid of the process listening on TCP ``port``, when it can be found."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local, state, inode = parts[1], parts[3], parts[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    if not inodes:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(entry.name)
        except OSError:
            continue
    return None


def _bind_test(port: int) -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return "another process"
    return None
