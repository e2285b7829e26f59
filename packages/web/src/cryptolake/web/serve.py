"""Start the Reflex app in production mode, offline: ``python -m cryptolake.web serve``.

Sets what keeps Reflex 0.10.1 from reaching the network (bun from ``$CRYPTOLAKE_HOME/web``,
no telemetry, no version check, the configured npm registry instead of a mirror race), moves the
build directory out of the repository (``$CRYPTOLAKE_HOME/web/build``) and runs ``reflex run
--env prod --single-port`` in the app root (``packages/web``, where ``rxconfig.py`` and the
committed ``reflex.lock/`` live). A production start compiles the pages and builds the frontend
each time: start it once (the ``web`` stack service, or once per test session).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from cryptolake.web.settings import home, read_settings

BUN_VERSION = "1.4.4"


def app_root() -> Path:
    """The directory with ``rxconfig.py`` (``packages/web`` of the checkout)."""
    root = Path(__file__).resolve().parents[3]
    if not (root / "rxconfig.py").is_file():
        raise SystemExit(f"no rxconfig.py in {root}: cryptolake-web runs from a checkout "
                         "(installed editable by scripts/bootstrap-web.sh)")
    return root


def offline_env(build_dir: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for ``reflex``: offline switches, bun, and the build directories."""
    env = dict(os.environ if env is None else env)
    bun = home() / "web" / f"bun-{BUN_VERSION}" / "bin" / "bun"
    env.setdefault("REFLEX_BUN_PATH", str(bun))
    env["REFLEX_TELEMETRY_ENABLED"] = "false"
    env["REFLEX_CHECK_LATEST_VERSION"] = "false"
    env.setdefault("REFLEX_HTTP_CLIENT_BIND_ADDRESS", "0.0.0.0")
    if not env.get("NPM_CONFIG_REGISTRY") and shutil.which("npm"):
        # the registry npm is configured with: Reflex otherwise races it against a mirror
        out = subprocess.run(["npm", "config", "get", "registry"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip().startswith("http"):
            env["NPM_CONFIG_REGISTRY"] = out.stdout.strip()
    env["REFLEX_WEB_WORKDIR"] = str(build_dir / ".web")
    env["REFLEX_STATES_WORKDIR"] = str(build_dir / ".states")
    return env


def main(argv: list[str] | None = None) -> int:
    settings = read_settings()
    parser = argparse.ArgumentParser(prog="python -m cryptolake.web")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web app in production mode (one port)")
    serve.add_argument("--host", default=settings.host)
    serve.add_argument("--port", type=int, default=settings.port)
    serve.add_argument("--build-dir", type=Path, default=home() / "web" / "build",
                       help="where the compiled frontend goes (default $CRYPTOLAKE_HOME/web/build)")
    sub.add_parser("url", help="print the URL the web app serves on")
    args = parser.parse_args(argv)
    if args.command == "url":
        print(settings.url)
        return 0
    root = app_root()
    args.build_dir.mkdir(parents=True, exist_ok=True)
    env = offline_env(args.build_dir)
    env["CRYPTOLAKE_WEB__HOST"] = args.host
    env["CRYPTOLAKE_WEB__PORT"] = str(args.port)
    if not Path(env["REFLEX_BUN_PATH"]).exists():
        raise SystemExit(f"bun {BUN_VERSION} is missing ({env['REFLEX_BUN_PATH']}): "
                         "run scripts/bootstrap-web.sh")
    cmd = [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
           "--frontend-port", str(args.port), "--backend-host", args.host, "--loglevel", "info"]
    os.chdir(root)
    os.execve(sys.executable, cmd, env)
    return 0  # not reached
