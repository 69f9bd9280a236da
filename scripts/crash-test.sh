#!/usr/bin/env bash
# Crash safety of batch ingestion: index N generated documents once cleanly, then again in a second data
# directory while killing the process with SIGKILL at a random moment, restart it, and compare.
# Pass: same documents, chunk counts and content hashes (digest), each source stored once, and SQLite's
# integrity check "ok". With W > 0 the runs are batch jobs (`rag ingest --workers W`, one durable job per file):
# then, once the killed run's leases have expired (3 s here), `rag worker --drain` must empty the queue, so no
# job is left stuck in a leased state.   Usage: scripts/crash-test.sh [N=2000] [W=0]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
workers=${2:-0}
mode=()
if [ "$workers" -gt 0 ]; then
  mode=(--workers "$workers")
  export Jobs__LeaseSeconds=3 Jobs__HeartbeatSeconds=0.5
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet build src/Orchestrator/Cli -c Release -nologo -v q >/dev/null
rag() { Store__DataDirectory="$1" dotnet src/Orchestrator/Cli/bin/Release/net10.0/rag.dll "${@:2}"; }

mkdir -p "$work/docs"
for i in $(seq 1 "$n"); do
  printf 'Document %d\n\nThis generated note %d talks about topic %d and lighthouse %d.\n\n%s\n' \
    "$i" "$i" $((i % 97)) $((i % 13)) "$(printf 'Paragraph about item %d. ' $(seq 1 $((20 + i % 40))))" > "$work/docs/doc-$i.txt"
done

start=$(date +%s.%N)
rag "$work/clean" ingest "$work/docs" "${mode[@]}" >/dev/null 2>&1
clean_seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
rag "$work/clean" store check > "$work/clean.txt"

# Kill at a random moment between 40 % and 90 % of the clean run's duration (the first second or so is
# process start-up); if the run beats the kill, start over, up to five times.
for attempt in 1 2 3 4 5; do
  rm -rf "$work/crashed"
  # Started directly (not through the rag function) so that $! is the dotnet process itself.
  Store__DataDirectory="$work/crashed" dotnet src/Orchestrator/Cli/bin/Release/net10.0/rag.dll ingest "$work/docs" "${mode[@]}" >/dev/null 2>&1 &
  pid=$!
  delay=$(awk -v s=$RANDOM -v t="$clean_seconds" 'BEGIN { srand(s); printf "%.2f", t * (0.4 + rand() * 0.5) }')
  sleep "$delay"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    echo "killed ingestion (SIGKILL) after ${delay}s of a ${clean_seconds}s run"
    break
  fi
  wait "$pid" 2>/dev/null || true
  echo "attempt $attempt: ingestion finished before the kill at ${delay}s"
  [ "$attempt" -eq 5 ] && { echo "could not kill mid-run: nothing was tested"; exit 2; }
done
rag "$work/crashed" store check | sed 's/^/  after kill: /' | head -3
rag "$work/crashed" ingest "$work/docs" "${mode[@]}" > "$work/resume.txt" 2>/dev/null
echo "  resume: $(grep -m1 -E '^(added|jobs|[0-9])' "$work/resume.txt" || head -1 "$work/resume.txt")"
drained=ok
if [ "$workers" -gt 0 ]; then
  # The killed run's jobs stay leased until their lease expires; then any worker redoes them.
  sleep "$Jobs__LeaseSeconds"
  start=$(date +%s.%N)
  if Store__DataDirectory="$work/crashed" timeout 120 dotnet src/Orchestrator/Cli/bin/Release/net10.0/rag.dll \
       worker --drain --count "$workers" > "$work/drain.txt" 2>&1 && grep -q '^queue drained' "$work/drain.txt"; then
    echo "  drain: $(grep '^queue drained' "$work/drain.txt") after $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
  else
    drained=stuck; echo "  drain: the queue did not empty within 120 s"; tail -5 "$work/drain.txt"
  fi
fi
rag "$work/crashed" store check > "$work/crashed.txt"

echo "clean run:"; sed 's/^/  /' "$work/clean.txt"
echo "killed and resumed:"; sed 's/^/  /' "$work/crashed.txt"
if diff -q "$work/clean.txt" "$work/crashed.txt" >/dev/null && grep -q '^integrity ok' "$work/crashed.txt" && [ "$drained" = ok ]; then
  echo "PASS: identical documents, chunks and hashes; integrity ok$([ "$workers" -gt 0 ] && echo '; no job left queued or leased')"
else
  echo "FAIL"; exit 1
fi
