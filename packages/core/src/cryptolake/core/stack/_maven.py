"""Fetch artifacts from Maven Central through ``mvn`` (strict checksums) into ``downloads/``.

Maven verifies each download against the registry's published ``.sha1`` (``-C``, strict checksum
policy). We keep that digest next to the copy in ``downloads/`` and check it again on every reuse,
so a second ``setup`` runs no ``mvn`` at all and a damaged copy is noticed.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptolake.core.errors import ServiceError

DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
#: Maven's local repository: Java takes ``user.home`` from the password database, not ``$HOME``
M2_REPOSITORY = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".m2" / "repository"


@dataclass(frozen=True)
class Artifact:
    group: str
    artifact: str
    version: str
    type: str = "jar"
    classifier: str | None = None

    @property
    def coords(self) -> str:
        tail = f":{self.classifier}" if self.classifier else ""
        return f"{self.group}:{self.artifact}:{self.version}:{self.type}{tail}"

    @property
    def filename(self) -> str:
        cls = f"-{self.classifier}" if self.classifier else ""
        return f"{self.artifact}-{self.version}{cls}.{self.type}"

    @property
    def m2_path(self) -> Path:
        return (
            M2_REPOSITORY
            / self.group.replace(".", "/")
            / self.artifact
            / self.version
            / self.filename
        )


def sha1_of(path: Path) -> str:
    h = hashlib.sha1()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _published_sha1(art: Artifact) -> str | None:
    side = art.m2_path.with_name(art.m2_path.name + ".sha1")
    if not side.exists():
        return None
    text = side.read_text().strip().split()
    return text[0].lower() if text else None


def _mvn(service: str, args: list[str], cwd: Path, what: str) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceError(
            service,
            "Maven (`mvn`) is not installed",
            "run `apt-get install -y maven` and retry `cryptolake stack setup`",
        )
    # Offline first: what ~/.m2 already holds needs no network at all.
    for offline in (True, False):
        cmd = [mvn, "-B", "-q", "-C", *(["-o"] if offline else []), *args]
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        if proc.returncode == 0:
            return
    text = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    errors = [ln.replace("[ERROR]", "").strip() for ln in text.splitlines() if "[ERROR]" in ln]
    cause = errors[0] if errors else f"mvn exit {proc.returncode}"
    for marker in ("resolve artifact. ", "Could not resolve dependencies for project "):
        if marker in cause:
            cause = cause.split(marker, 1)[1]
    cause = cause.split(" -> [Help", 1)[0][:300]
    raise ServiceError(
        service,
        f"download of {what} failed: {cause}",
        "check that Maven Central is reachable (or ~/.m2 holds the artifact) and retry "
        "`cryptolake stack setup`",
    )


def fetch(service: str, art: Artifact, downloads: Path) -> tuple[Path, bool]:
    """Put ``art`` into ``downloads``; returns (path, fetched) — fetched is False on reuse."""
    downloads.mkdir(parents=True, exist_ok=True)
    dest = downloads / art.filename
    digest_file = dest.with_name(dest.name + ".sha1")
    if dest.exists() and digest_file.exists():
        if sha1_of(dest) == digest_file.read_text().strip():
            return dest, False
        dest.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        _mvn(
            service,
            [
                f"{DEPENDENCY_PLUGIN}:copy",
                f"-Dartifact={art.coords}",
                f"-DoutputDirectory={downloads}",
                "-Dmdep.overWriteReleases=true",
            ],
            Path(tmp),
            art.coords,
        )
    if not dest.exists():
        raise ServiceError(
            service,
            f"download of {art.coords} left no {dest.name}",
            "retry `cryptolake stack setup`",
        )
    actual = sha1_of(dest)
    published = _published_sha1(art)
    if published is not None and published != actual:
        dest.unlink()
        raise ServiceError(
            service,
            f"checksum mismatch for {art.coords}: sha1 {actual} but the "
            f"registry publishes {published}",
            f"delete {art.m2_path.parent} and retry `cryptolake stack setup`",
        )
    digest_file.write_text(actual + "\n")
    return dest, True


def fetch_with_dependencies(
    service: str, deps: list[Artifact], dest: Path, *, exclude: list[str] | None = None
) -> bool:
    """Resolve ``deps`` and their runtime dependencies into ``dest`` (a classpath directory).

    Returns False when ``dest`` was already complete (nothing fetched).
    """
    marker = dest / ".complete"
    key = "\n".join(sorted(a.coords for a in deps)) + "\n"
    if marker.exists() and marker.read_text() == key:
        return False
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    dep_xml = "".join(
        f"<dependency><groupId>{a.group}</groupId><artifactId>{a.artifact}</artifactId>"
        f"<version>{a.version}</version></dependency>"
        for a in deps
    )
    pom = (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        "<groupId>cryptolake.stack</groupId><artifactId>classpath</artifactId><version>1</version>"
        f"<packaging>pom</packaging><dependencies>{dep_xml}</dependencies></project>"
    )
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "pom.xml").write_text(pom)
        args = [
            f"{DEPENDENCY_PLUGIN}:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={dest}",
        ]
        if exclude:
            args.append("-DexcludeArtifactIds=" + ",".join(exclude))
        _mvn(service, args, Path(tmp), ", ".join(a.coords for a in deps))
    marker.write_text(key)
    return True
