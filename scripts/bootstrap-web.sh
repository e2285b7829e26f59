#!/usr/bin/env bash
# Install what the web app (packages/web, Reflex 0.10.1) needs, idempotently, outside the repository.
#
#   $CRYPTOLAKE_HOME/web/venv          Python 3.11 with the python-web resolve (3rdparty/python/web.lock)
#                                      and cryptolake-web editable. Its own venv: Reflex brings ~40
#                                      packages that must not move a pin of the lakehouse's venv.
#   $CRYPTOLAKE_HOME/web/bun-1.4.4     bun from the npm registry (@oven/bun-linux-x64): Reflex would
#                                      otherwise download it from GitHub, which is unreachable here.
#   --browser                          also Debian's chromium + chromium-driver (for the browser
#                                      tests; Playwright never downloads a browser of its own).
#
# A second run downloads nothing (a content stamp per part).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${CRYPTOLAKE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/cryptolake}"
WEB="$HOME_DIR/web"
VENV="$WEB/venv"
BUN_VERSION="1.4.4"
BUN_DIR="$WEB/bun-$BUN_VERSION"
LOCK="$ROOT/3rdparty/python/web.lock"
step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
browser=0
for a in "$@"; do [ "$a" = "--browser" ] && browser=1; done

# the default venv's bootstrap brings uv, the pex tool and CPython 3.11's location
"$ROOT/scripts/bootstrap.sh" >/dev/null
UV="$HOME_DIR/tools/uv/bin/uv"
PY="$("$HOME_DIR/venv/bin/python" -c 'import sys; print(sys._base_executable)')"
export UV_CACHE_DIR="${UV_CACHE_DIR:-$HOME_DIR/uv-cache}"
export UV_COMPILE_BYTECODE=1  # see scripts/bootstrap.sh: no per-process compiling of Reflex
mkdir -p "$WEB"

# 1. the web venv -----------------------------------------------------------------------------
want="$( (cat "$LOCK" "$ROOT/packages/web/pyproject.toml"; echo "$ROOT" bytecode-1) | sha256sum | cut -d' ' -f1)"
if [ -f "$VENV/.cryptolake-stamp" ] && [ "$(cat "$VENV/.cryptolake-stamp")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
  step "web environment up to date ($VENV)"
else
  [ -x "$VENV/bin/python" ] || { step "creating $VENV"; "$UV" venv -q --python "$PY" "$VENV"; }
  step "installing the python-web resolve (3rdparty/python/web.lock)"
  reqs="$WEB/requirements.txt"
  grep -v '^//' "$LOCK" > "$reqs.json"
  PEX_SCRIPT=pex3 "$PY" "$HOME_DIR/tools/pex-v2.1.137.pex" lock export --format pip "$reqs.json" -o "$reqs"
  "$UV" pip install -q --python "$VENV/bin/python" --require-hashes -r "$reqs"
  "$UV" pip install -q --python "$VENV/bin/python" --no-deps -e "$ROOT/packages/web"
  echo "$want" > "$VENV/.cryptolake-stamp"
  step "web environment ready ($VENV)"
fi

# 2. bun from the npm registry (integrity checked by npm) --------------------------------------
if [ -x "$BUN_DIR/bin/bun" ] && [ "$("$BUN_DIR/bin/bun" --version)" = "$BUN_VERSION" ]; then
  step "bun $BUN_VERSION present ($BUN_DIR/bin/bun)"
else
  step "installing bun $BUN_VERSION from the npm registry"
  tmp="$(mktemp -d "$WEB/bun.XXXXXX")"
  (cd "$tmp" && npm install --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
      --prefix "$tmp" "@oven/bun-linux-x64@$BUN_VERSION" >/dev/null)
  rm -rf "$BUN_DIR"
  mv "$tmp/node_modules/@oven/bun-linux-x64" "$BUN_DIR"
  rm -rf "$tmp"
  chmod +x "$BUN_DIR/bin/bun"
  [ "$("$BUN_DIR/bin/bun" --version)" = "$BUN_VERSION" ] || { echo "bun $BUN_VERSION did not run" >&2; exit 1; }
fi

# 3. Debian's Chromium for the browser tests ----------------------------------------------------
if [ "$browser" = 1 ]; then
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    step "chromium present ($(/usr/bin/chromium --version 2>/dev/null | head -1))"
  elif [ "$(id -u)" = 0 ]; then
    step "installing Debian's chromium and chromium-driver"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null; }
  else
    echo "chromium is missing: run \`sudo apt-get install -y chromium chromium-driver\`" >&2
    exit 1
  fi
fi
