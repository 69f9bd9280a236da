#!/usr/bin/env bash
# Conversation load run of the HTTP API: `rag serve` (Release) over the samples, driven by `rag bench api --turns`:
# N concurrent conversations × M turns, each turn resending the history (aggregate tokens/s, time to first token,
# prompt tokens served from the state cache). Pass: zero errors and a flat live managed heap.
# Usage: scripts/api-conversations.sh [conversations=1,8,32] [turns=5] [max-tokens=16]
# Passages per question: K (default 8). The model defaults to the tiny CPU fixture; e.g. MODEL=random:1.5b DEVICE=cuda
# DTYPE=bf16 K=64 for a GPU run.
set -euo pipefail
cd "$(dirname "$0")/.."
levels=${1:-1,8,32}
turns=${2:-5}
max_tokens=${3:-16}
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
dotnet build src/Orchestrator/Cli -c Release -nologo -v q >/dev/null
rag=src/Orchestrator/Cli/bin/Release/net10.0/rag.dll
vocab=tests/data/rwkv_vocab_v20230424.txt
if [ -z "${MODEL:-}" ]; then
  # The fixture model knows token ids below 1024 only: its vocabulary is the World vocabulary's first lines.
  awk '{ if ($1 + 0 < 1024) print }' "$vocab" > "$work/vocab.txt"
  vocab="$work/vocab.txt"
fi
export Store__DataDirectory="$work/data" Generator__ModelPath="${MODEL:-tests/data/rwkv7/rwkv7-tiny-a.pth}" \
  Generator__VocabPath="$vocab" Generator__Device="${DEVICE:-cpu}" Generator__Dtype="${DTYPE:-fp32}" \
  Generator__MaxTokens="$max_tokens" Ask__DefaultK="${K:-8}" Logging__LogLevel__Default=Warning
dotnet "$rag" ingest samples/documents >/dev/null
dotnet "$rag" serve --urls "http://127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 240); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.5
done
dotnet "$rag" bench api --url "http://127.0.0.1:$port" --concurrency "$levels" --turns "$turns" --max-tokens "$max_tokens"
