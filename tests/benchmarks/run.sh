#!/usr/bin/env bash
# Hygie vs the bare FastAPI + aiohttp pass-through (the floor) vs direct-to-mock, and the LiteLLM
# proxy when its venv exists, side by side in one run of ../shared/bench/run.py; ends by printing
# Hygie's share of the pass-through's req/s and the p50 it adds over the pass-through's.
# Arguments are passed to run.py (e.g. --rounds 3, --stream, --ttft --mock slow).
# Needs nginx and wrk (apt-get install -y nginx wrk). HYGIE_BENCH_LITELLM=1 installs the LiteLLM
# proxy venv when it is missing; without it, a missing venv leaves that target out.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BENCH="${HYGIE_BENCH_DIR:-$ROOT/../shared/bench}"
TOKEN="${HYGIE_BENCH_TOKEN:-sk-bench-1234}"
[ -f "$BENCH/run.py" ] || { echo "benchmark harness not found at $BENCH (set HYGIE_BENCH_DIR)" >&2; exit 2; }
command -v nginx >/dev/null && command -v wrk >/dev/null || {
  echo "nginx and wrk are needed: apt-get install -y nginx wrk" >&2; exit 2; }
"$ROOT/scripts/uv.sh" sync --frozen --quiet --project "$ROOT"
LITELLM_TARGET=()
if [ ! -x "${LITELLM_VENV:-/tmp/litellm-venv}/bin/litellm" ] && [ "${HYGIE_BENCH_LITELLM:-0}" = 1 ]; then
  bash "$BENCH/targets/litellm/install.sh"
fi
if [ -x "${LITELLM_VENV:-/tmp/litellm-venv}/bin/litellm" ]; then
  LITELLM_TARGET=(--target-name litellm --target-url http://127.0.0.1:4000
    --target-health /health/liveliness
    --target-cmd '{bench_dir}/targets/litellm/run_litellm.sh 4000')
fi
WORK="$(mktemp -d /tmp/hygie-bench-XXXXXX)"
# The harness's results and its nginx mock live here: nginx's workers (an unprivileged user when
# run as root) must be able to read the streamed body it serves from a file.
chmod 755 "$WORK"
"$ROOT/.venv/bin/python" "$ROOT/tests/benchmarks/setup_hygie.py" \
  --database-url "sqlite+aiosqlite:///$WORK/hygie.db" --token "$TOKEN"
# HYGIE_BENCH_QUOTAS=1 adds a target with four levels of quotas on Redis (DB 13 of the local
# Redis, flushed first), to measure what the quota step adds.
QUOTA_TARGET=()
if [ "${HYGIE_BENCH_QUOTAS:-0}" = 1 ]; then
  mkdir -p "$WORK/quotas"
  "$ROOT/.venv/bin/python" "$ROOT/tests/benchmarks/setup_hygie.py" \
    --database-url "sqlite+aiosqlite:///$WORK/quotas/hygie.db" --token "$TOKEN" --quota-levels 4
  redis-cli -n 13 flushdb >/dev/null
  QUOTA_TARGET=(--target-name hygie-quotas --target-url http://127.0.0.1:4101 --target-health /healthz
    --target-env HYGIE_BENCH_REDIS_URL=redis://127.0.0.1:6379/13
    --target-cmd "$ROOT/tests/benchmarks/hygie_target.sh {mock_base} 4101 $WORK/quotas")
fi
# The pass-through comes first: run.py prints every other target's ratios against the first.
python3 "$BENCH/run.py" --auth "Bearer $TOKEN" --out "$WORK/results" \
  --target-name passthrough --target-url http://127.0.0.1:4200 --target-health /health \
  --target-cmd "{bench_dir}/targets/passthrough/run_passthrough.sh 4200 $ROOT/.venv/bin/python" \
  --target-name hygie --target-url http://127.0.0.1:4100 --target-health /healthz \
  --target-cmd "$ROOT/tests/benchmarks/hygie_target.sh {mock_base} 4100 $WORK" \
  "${QUOTA_TARGET[@]}" \
  "${LITELLM_TARGET[@]}" \
  "$@"
python3 "$ROOT/tests/benchmarks/passthrough_ratio.py" "$WORK/results/results.jsonl"
