"""The Spark drivers' class-data sharing archive: one per JDK and Spark, installed only once it
checks out, handed to every driver once installed (a truncated archive crashes the JVM)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from cryptolake.core import Settings
from cryptolake.core.clients import _spark_cds
from cryptolake.core.clients import spark as spark_client
from cryptolake.core.clients.spark import spark_conf


def _jdk(tmp_path: Path, name: str, release: str) -> Path:
    home = tmp_path / name
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text("#!/bin/sh\n")
    java.chmod(0o755)
    (home / "release").write_text(release)
    return home


def test_one_archive_per_jdk_and_none_when_off(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(home=tmp_path / "home")
    monkeypatch.setenv("JAVA_HOME", str(_jdk(tmp_path, "jdk17", 'JAVA_VERSION="17.0.15"')))
    first = spark_client.class_archive(settings)
    assert first is not None and first.parent == settings.home / "opt" / "spark-cds"
    assert spark_client.class_archive(settings) == first  # stable
    monkeypatch.setenv("JAVA_HOME", str(_jdk(tmp_path, "jdk17u", 'JAVA_VERSION="17.0.16"')))
    assert spark_client.class_archive(settings) not in (None, first)  # another JDK, another file
    settings.spark.class_archive = False
    assert spark_client.class_archive(settings) is None


def _fake_runs(monkeypatch: pytest.MonkeyPatch, fail: str | None) -> list[str]:
    actions: list[str] = []

    def run(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        action, path = cmd[-2], Path(cmd[-1])
        actions.append(action)
        if action == "record":
            path.write_bytes(b"archive")
        return subprocess.CompletedProcess(cmd, 1 if action == fail else 0)

    monkeypatch.setattr(_spark_cds.subprocess, "run", run)
    return actions


@pytest.mark.parametrize("fail", ["record", "verify"])
def test_a_recording_that_does_not_check_out_is_not_installed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: str) -> None:
    settings = Settings(home=tmp_path / "home")
    monkeypatch.setenv("JAVA_HOME", str(_jdk(tmp_path, "jdk", "17")))
    actions = _fake_runs(monkeypatch, fail)
    heard: list[str] = []
    assert _spark_cds.record(settings, heard.append) is False
    archive = spark_client.class_archive(settings)
    assert archive is not None and not archive.exists()
    assert list(archive.parent.iterdir()) == []  # no temporary file left behind
    assert actions == (["record"] if fail == "record" else ["record", "verify"])
    assert any(f"{fail} failed" in m for m in heard)
    assert "SharedArchiveFile" not in spark_conf(settings).get("spark.driver.extraJavaOptions", "")


def test_a_checked_recording_is_installed_once_and_given_to_drivers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(home=tmp_path / "home")
    monkeypatch.setenv("JAVA_HOME", str(_jdk(tmp_path, "jdk", "17")))
    actions = _fake_runs(monkeypatch, None)
    assert _spark_cds.record(settings) is True
    archive = spark_client.class_archive(settings)
    assert archive is not None and archive.read_bytes() == b"archive"
    assert _spark_cds.record(settings) is False and actions == ["record", "verify"]  # once
    options = spark_conf(settings)["spark.driver.extraJavaOptions"]
    assert options.endswith(f"-XX:SharedArchiveFile={archive}")
    assert options.startswith(settings.spark.driver_java_options)
