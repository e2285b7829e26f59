"""Debian packages and OS users for the services that come from apt (PostgreSQL, Redis)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from cryptolake.core.errors import ServiceError

POLICY_RC = Path("/usr/sbin/policy-rc.d")


def apt_install(service: str, packages: list[str]) -> None:
    """``apt-get install`` without letting the package start its system service."""
    if os.geteuid() != 0:
        raise ServiceError(
            service,
            f"Debian packages {', '.join(packages)} are missing",
            f"run `sudo apt-get install -y {' '.join(packages)}`",
        )
    created = False
    if not POLICY_RC.exists():
        # the standard Debian switch: invoke-rc.d starts no service while this exits 101
        POLICY_RC.write_text("#!/bin/sh\nexit 101\n")
        POLICY_RC.chmod(0o755)
        created = True
    try:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        proc = subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", *packages],
            capture_output=True,
            text=True,
            env=env,
        )
        if proc.returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True, env=env)
            proc = subprocess.run(
                ["apt-get", "install", "-y", "--no-install-recommends", *packages],
                capture_output=True,
                text=True,
                env=env,
            )
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["apt-get failed"])[-1]
            raise ServiceError(
                service,
                f"apt-get install {' '.join(packages)} failed: {last}",
                "check that the Debian package mirror is reachable and retry",
            )
    finally:
        if created:
            POLICY_RC.unlink(missing_ok=True)


def newest_postgres_bin() -> Path | None:
    base = Path("/usr/lib/postgresql")
    if not base.is_dir():
        return None
    versions = sorted(
        (d for d in base.iterdir() if (d / "bin" / "postgres").exists()),
        key=lambda d: int(d.name) if d.name.isdigit() else 0,
    )
    return versions[-1] / "bin" if versions else None


def grant_traverse(path: Path, user: str) -> None:
    """Let ``user`` reach ``path``: execute (no read) on every ancestor it cannot enter."""
    uid = pwd.getpwnam(user).pw_uid
    for parent in reversed(path.parents):
        st = parent.stat()
        if st.st_uid == uid or st.st_mode & 0o001:
            continue
        if shutil.which("setfacl") is None:
            apt_install("postgres", ["acl"])
        subprocess.run(["setfacl", "-m", f"u:{user}:x", str(parent)], check=True)


def chown_tree(path: Path, user: str) -> None:
    pw = pwd.getpwnam(user)
    for root, _dirs, files in os.walk(path):
        os.chown(root, pw.pw_uid, pw.pw_gid)
        for name in files:
            os.chown(os.path.join(root, name), pw.pw_uid, pw.pw_gid)
