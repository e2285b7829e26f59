#!/usr/bin/env bash
# Install Pants 2.17.1 (the last release on PyPI; CPython 3.9 only) and the pex tool it needs,
# idempotently, under $CRYPTOLAKE_HOME/tools. Prints the path of the pants executable.
#
#   scripts/bootstrap-pants.sh            Pants and pex (./pants, `make test`)
#   scripts/bootstrap-pants.sh --pex-only only the pex tool (scripts/bootstrap.sh exports the lock
#                                         with it): `make demo` builds no Pants
#
# Pants normally fetches the scie launcher and pex from GitHub, which is unreachable here: we
# install Pants from PyPI with --require-hashes and build pex-v2.1.137.pex locally from the PyPI
# wheel (reproducible; pants.toml pins its sha256 and size).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${CRYPTOLAKE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/cryptolake}"
TOOLS="$HOME_DIR/tools"
VENV="$TOOLS/pants-2.17.1"
PEX="$TOOLS/pex-v2.1.137.pex"
step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1

find_python39() {
  for c in "${CRYPTOLAKE_PYTHON39:-}" "$(command -v pyenv >/dev/null && echo "$(pyenv root)/versions/3.9.18/bin/python3.9")" \
           "$(command -v python3.9 || true)" "$HOME"/.pyenv/versions/3.9*/bin/python3.9; do
    [ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return; }
  done
  echo "bootstrap-pants: no CPython 3.9 found (Pants 2.17.1 needs it); set CRYPTOLAKE_PYTHON39" >&2; exit 1
}

pex_only=false
[ "${1:-}" = "--pex-only" ] && pex_only=true
stamp="$(cat "$ROOT/3rdparty/pants/requirements.lock" | sha256sum | cut -d' ' -f1)"
if ! $pex_only && { [ ! -f "$VENV/.stamp" ] || [ "$(cat "$VENV/.stamp")" != "$stamp" ]; }; then
  PY39="$(find_python39)"
  step "installing Pants 2.17.1 into $VENV"
  "$PY39" -m venv --clear "$VENV"
  "$VENV/bin/pip" install -q --require-hashes -r "$ROOT/3rdparty/pants/requirements.lock"
  echo "$stamp" > "$VENV/.stamp"
fi
# the pex tool, built by CPython 3.9 from the pinned wheel: rebuilt when its lock changes
pex_stamp="$(sha256sum "$ROOT/3rdparty/pants/pex.lock" | cut -d' ' -f1)"
if [ ! -f "$PEX" ] || [ ! -f "$PEX.stamp" ] || [ "$(cat "$PEX.stamp")" != "$pex_stamp" ]; then
  PY39="$(find_python39)"
  step "building $PEX from the PyPI wheel"
  tmp="$(mktemp -d)"
  "$PY39" -m venv "$tmp/v"
  "$tmp/v/bin/pip" install -q --require-hashes -r "$ROOT/3rdparty/pants/pex.lock"
  "$tmp/v/bin/pex" --no-strip-pex-env --no-use-system-time --disable-cache --no-build --no-compile \
      --include-tools --interpreter-constraint "CPython<3.12" -c pex -o "$PEX.tmp" "pex==2.1.137"
  mv "$PEX.tmp" "$PEX"
  echo "$pex_stamp" > "$PEX.stamp"
  rm -rf "$tmp"
fi
want="7704f94d40314b3368d74f857b2775bbe8fbf8f9113d12402bca5f0f93915287"  # 4098310 bytes, as pinned in pants.toml
got="$(sha256sum "$PEX" | cut -d' ' -f1)"
if [ "$got" != "$want" ]; then
  echo "bootstrap-pants: $PEX has sha256 $got, expected $want; delete it and rerun" >&2
  exit 1
fi
$pex_only || echo "$VENV/bin/pants"
