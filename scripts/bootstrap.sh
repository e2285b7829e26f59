#!/usr/bin/env bash
# Create (or update) the project's Python environment, idempotently, outside the repository.
#
#   $CRYPTOLAKE_HOME/venv        Python 3.11 with every pinned dependency and the packages editable
#   $CRYPTOLAKE_HOME/tools/uv    the pinned uv used to install it
#   + the ml extras (torch, scikit-learn: 3rdparty/python/ml.lock, the python-ml resolve) into the
#     same venv. torch from PyPI is the CUDA build: a fresh machine downloads ~3.1 GB (torch and
#     ~20 nvidia/cuda wheels) once into $CRYPTOLAKE_HOME/uv-cache; it runs on CPU.
#
# Re-running is fast: nothing is downloaded when the lock and the packages have not changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${CRYPTOLAKE_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/cryptolake}"
VENV="$HOME_DIR/venv"
TOOLS="$HOME_DIR/tools"
UV_VERSION="0.9.9"
LOCK="$ROOT/3rdparty/python/default.lock"   # the Pants lock of the one resolve, python-default
STAMP="$VENV/.cryptolake-stamp"
step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

find_python311() {
  for c in "${CRYPTOLAKE_PYTHON:-}" "$(command -v pyenv >/dev/null && echo "$(pyenv root)/versions/3.11.7/bin/python3.11")" \
           "$(command -v python3.11 || true)" "$(command -v python3 || true)"; do
    [ -n "$c" ] && [ -x "$c" ] && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null && { echo "$c"; return; }
  done
  for c in "$HOME"/.pyenv/versions/3.11*/bin/python3.11; do [ -x "$c" ] && { echo "$c"; return; }; done
  echo "bootstrap: no CPython 3.11 found; install it or set CRYPTOLAKE_PYTHON" >&2; exit 1
}

PY="$(find_python311)"
mkdir -p "$TOOLS"
if [ ! -x "$TOOLS/uv/bin/uv" ] || [ "$("$TOOLS/uv/bin/uv" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  step "installing uv $UV_VERSION into $TOOLS/uv"
  "$PY" -m venv --clear "$TOOLS/uv"
  PIP_CONFIG_FILE=/dev/null "$TOOLS/uv/bin/pip" install -q "uv==$UV_VERSION"
fi
UV="$TOOLS/uv/bin/uv"
export UV_CACHE_DIR="${UV_CACHE_DIR:-$HOME_DIR/uv-cache}"
# Bytecode is compiled at install time: where PYTHONDONTWRITEBYTECODE is set (CI images often set
# it) Python would otherwise compile every imported module from source in every process — ~9 s of
# each `cryptolake ml …` command went to compiling scikit-learn and torch (python bench/cli.py).
export UV_COMPILE_BYTECODE=1
BYTECODE="bytecode-1"  # in the stamp: an environment installed before this line is compiled once
compile_own() {  # our editable sources (cheap when nothing changed; __pycache__ is git-ignored)
  "$VENV/bin/python" -m compileall -q "$ROOT"/packages/*/src >/dev/null || true
}

ML_LOCK="$ROOT/3rdparty/python/ml.lock"    # python-ml: the default resolve + torch, scikit-learn
want="$( (cat "$LOCK"; [ -f "$ML_LOCK" ] && cat "$ML_LOCK"; for p in "$ROOT"/packages/*/pyproject.toml; do echo "$p"; cat "$p"; done; echo "$ROOT" "$BYTECODE") | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
  compile_own
  step "python environment up to date ($VENV)"
  exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
  step "creating $VENV"
  "$UV" venv -q --python "$PY" "$VENV"
fi
step "installing pinned dependencies from 3rdparty/python/default.lock"
# Export the Pants (pex) lock to pip's hash-checked format with the pex tool Pants itself uses.
"$ROOT/scripts/bootstrap-pants.sh" --pex-only  # not Pants itself: only the tests need it
reqs="$HOME_DIR/requirements.txt"
grep -v '^//' "$LOCK" > "$reqs.json"
PEX_SCRIPT=pex3 "$PY" "$TOOLS/pex-v2.1.137.pex" lock export --format pip "$reqs.json" -o "$reqs"
"$UV" pip install -q --python "$VENV/bin/python" --require-hashes -r "$reqs"
if [ -f "$ML_LOCK" ]; then
  # Only what python-ml adds to the default set (torch, its nvidia wheels, scikit-learn, scipy…),
  # hash-checked and without touching a package the default lock installed.
  step "installing the ml extras (torch, scikit-learn) from 3rdparty/python/ml.lock"
  mlreqs="$HOME_DIR/requirements-ml.txt"
  grep -v '^//' "$ML_LOCK" > "$mlreqs.json"
  PEX_SCRIPT=pex3 "$PY" "$TOOLS/pex-v2.1.137.pex" lock export --format pip "$mlreqs.json" -o "$mlreqs.all"
  "$PY" - "$reqs" "$mlreqs.all" "$mlreqs" <<'PYEOF'
import re, sys
def blocks(path):
    out, cur = [], []
    for line in open(path):
        if line.strip() and not line[0].isspace():
            if cur:
                out.append(cur)
            cur = [line]
        elif cur:
            cur.append(line)
    return out + ([cur] if cur else [])
name = lambda b: re.split(r"[=<>!~ ;\[]", b[0].strip(), maxsplit=1)[0].lower().replace("_", "-")
have = {name(b) for b in blocks(sys.argv[1])}
with open(sys.argv[3], "w") as fh:
    fh.writelines(line for b in blocks(sys.argv[2]) if name(b) not in have for line in b)
PYEOF
  "$UV" pip install -q --python "$VENV/bin/python" --require-hashes --no-deps -r "$mlreqs"
fi
step "installing the packages (editable)"
args=()
for p in "$ROOT"/packages/*/; do args+=(-e "$p"); done
"$UV" pip install -q --python "$VENV/bin/python" --no-deps "${args[@]}"
compile_own
echo "$want" > "$STAMP"
step "python environment ready ($VENV)"
