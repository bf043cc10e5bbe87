#!/usr/bin/env bash
# Started by ../shared/bench/run.py as the "hygie" target: writes a configuration pointing at
# the benchmark's mock vLLM and runs the gateway in the foreground.
# Usage: hygie_target.sh MOCK_BASE PORT WORKDIR
set -euo pipefail
MOCK_BASE="$1"; PORT="$2"; WORK="$3"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cat > "$WORK/config-$PORT.yaml" <<YAML
models:
  - name: llama-3-8b
    description: benchmark upstream (nginx mock)
    deployments:
      - name: mock
        replicas: ["$MOCK_BASE"]
        hosting: {class: on_premise, cleared_for: [public, internal, personal, health]}
YAML
export HYGIE_CONFIG="$WORK/config-$PORT.yaml"
export HYGIE_DATABASE_URL="sqlite+aiosqlite:///$WORK/hygie.db"
export HYGIE_SPOOL_DIR="$WORK/spool"
export HYGIE_AUTO_MIGRATE=false
export HYGIE_LOG_LEVEL=warning
# Optional shared counters (the "hygie-quotas" target): HYGIE_BENCH_REDIS_URL.
if [ -n "${HYGIE_BENCH_REDIS_URL:-}" ]; then export HYGIE_REDIS_URL="$HYGIE_BENCH_REDIS_URL"; fi
exec "$ROOT/.venv/bin/hygie" serve --host 127.0.0.1 --port "$PORT"
