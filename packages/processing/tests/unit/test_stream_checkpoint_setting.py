"""The stream's checkpoint follows CRYPTOLAKE_SPARK__CHECKPOINT_ROOT (a scale-out setting)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptolake.core.errors import ConfigError
from cryptolake.core.settings import Settings
from cryptolake.processing.spark._stream_state import StreamConfig


def test_the_checkpoint_root_setting_reaches_the_stream(tmp_path: Path) -> None:
    default = Settings(home=tmp_path)
    assert StreamConfig().checkpoint(default) == tmp_path / "data/spark-checkpoints/bronze"
    shared = Settings(home=tmp_path, spark={"checkpoint_root": "/mnt/shared/checkpoints"})
    assert StreamConfig(name="live").checkpoint(shared) == Path("/mnt/shared/checkpoints/live")
    own = StreamConfig(checkpoint_dir=tmp_path / "mine")
    assert own.checkpoint(shared) == tmp_path / "mine"  # the stream's own setting wins


def test_an_object_store_root_is_refused_clearly(tmp_path: Path) -> None:
    s3 = Settings(home=tmp_path, spark={"checkpoint_root": "s3a://warehouse/_checkpoints"})
    with pytest.raises(ConfigError, match="shared volume"):
        StreamConfig().checkpoint(s3)
