"""The long-lived stream process that :func:`~cryptolake.processing.spark.supervisor.start_stream`
launches: ``python -m cryptolake.processing.spark._stream_process --config JSON``.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cryptolake.processing.spark._stream_process")
    parser.add_argument("--config", default="{}", help="StreamConfig as JSON")
    args = parser.parse_args(argv)
    from cryptolake.core.logging import configure
    from cryptolake.processing.spark._stream_state import StreamConfig
    from cryptolake.processing.spark.stream import run_forever

    configure()
    return run_forever(StreamConfig.model_validate(json.loads(args.config)))


if __name__ == "__main__":
    sys.exit(main())
