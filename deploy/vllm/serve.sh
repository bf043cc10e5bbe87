#!/usr/bin/env bash
# Runs one vLLM OpenAI-compatible server on a GPU host (podman or docker), for a Hygie deployment
# of kind "vllm". Usage: serve.sh MODEL_DIR SERVED_NAME [PORT] [GPUS]
#   serve.sh /srv/models/Llama-3.1-8B-Instruct llama-3.1-8b-instruct 8000 0
# The gateway's config then lists http://<this host>:PORT/v1 among the deployment's replicas.
set -euo pipefail
MODEL_DIR="${1:?model directory (downloaded weights)}"
SERVED_NAME="${2:?name clients use, same as the model name in Hygie config}"
PORT="${3:-8000}"
GPUS="${4:-0}"   # comma-separated GPU indexes; more than one turns on tensor parallelism
RUNTIME="${CONTAINER_RUNTIME:-docker}"
TP=$(awk -F, '{print NF}' <<<"$GPUS")

# --max-model-len: bounds the KV cache each sequence may take; the model's native 128k context
#   would leave room for very few concurrent requests on one GPU.
# --gpu-memory-utilization 0.90: the rest is headroom for CUDA graphs and activations.
# --tensor-parallel-size: one shard per GPU listed.
# HF_HUB_OFFLINE / VLLM_NO_USAGE_STATS / DO_NOT_TRACK: the server never calls out of the
#   hospital network (weights are local, no telemetry).
# Request logging stays off (vLLM's default): --enable-log-requests would write prompts, that is
#   patient data, to the logs.
# Only the gateway should reach this port: bind it to an internal interface or firewall it.
exec "$RUNTIME" run --rm --name "vllm-${SERVED_NAME}" \
  --gpus "\"device=${GPUS}\"" \
  --ipc=host \
  -p "${VLLM_BIND:-127.0.0.1}:${PORT}:8000" \
  -v "${MODEL_DIR}:/models/model:ro" \
  -e HF_HUB_OFFLINE=1 -e VLLM_NO_USAGE_STATS=1 -e DO_NOT_TRACK=1 \
  vllm/vllm-openai:v0.32.0 \
  --model /models/model \
  --served-model-name "$SERVED_NAME" \
  --host 0.0.0.0 --port 8000 \
  --max-model-len 16384 \
  --gpu-memory-utilization 0.90 \
  --tensor-parallel-size "$TP"
