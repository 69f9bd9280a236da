#!/usr/bin/env bash
# Load run of the HTTP API: `rag serve` (Release) with the tiny RWKV-7 fixture model on CPU over the samples,
# driven by `rag bench api` over loopback. Pass: zero errors and a flat live managed heap at every level.
# Usage: scripts/api-load.sh [concurrency=1,8,32] [duration=30s]
set -euo pipefail
cd "$(dirname "$0")/.."
levels=${1:-1,8,32}
duration=${2:-30s}
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
dotnet build src/Orchestrator/Cli -c Release -nologo -v q >/dev/null
rag=src/Orchestrator/Cli/bin/Release/net10.0/rag.dll
export Store__DataDirectory="$work/data" Generator__ModelPath=tests/data/rwkv7/rwkv7-tiny-a.pth \
  Generator__VocabPath="$work/vocab.txt" Generator__MaxTokens=16 Logging__LogLevel__Default=Warning
# The fixture model knows token ids below 1024 only: its vocabulary is the World vocabulary's first lines.
awk '{ if ($1 + 0 < 1024) print }' tests/data/rwkv_vocab_v20230424.txt > "$work/vocab.txt"
dotnet "$rag" ingest samples/documents >/dev/null
dotnet "$rag" serve --urls "http://127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.5
done
dotnet "$rag" bench api --url "http://127.0.0.1:$port" --concurrency "$levels" --duration "$duration"
