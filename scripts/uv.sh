#!/usr/bin/env bash
# Runs the pinned uv, installing it first into .tools/uv (git-ignored) when the machine lacks it.
# Usage: scripts/uv.sh ARGS...   (e.g. scripts/uv.sh sync --frozen)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
UV_VERSION=0.13.8
if command -v uv >/dev/null 2>&1 && [ "$(uv --version | cut -d' ' -f2)" = "$UV_VERSION" ]; then
  exec uv "$@"
fi
LOCAL="$ROOT/.tools/uv"
if [ ! -x "$LOCAL/bin/uv" ]; then
  python3 -m venv "$LOCAL"
  "$LOCAL/bin/pip" install -q "uv==$UV_VERSION"
fi
exec "$LOCAL/bin/uv" "$@"
