#!/usr/bin/env bash
# Runs the rag CLI on a GPU machine that has PyTorch (libtorch) but no .NET.
#
#   scripts/gpu-run.sh pack           (here)   publish self-contained rag without a libtorch package
#                                               into .gpu/rag.tar.xz (.gpu/ is git-ignored; carry it)
#   scripts/gpu-run.sh rag ARGS...    (there)  unpack to /tmp/rag, point LD_LIBRARY_PATH at torch's
#                                               libtorch and run: scripts/gpu-run.sh rag model check ...
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  pack)
    publish=$(mktemp -d)
    mkdir -p .gpu
    dotnet publish src/Orchestrator/Cli -c Release -r linux-x64 --self-contained -p:TorchBackend=none \
      -o "$publish" -nologo -v q
    XZ_OPT="-1 -T0" tar -C "$publish" -cJf .gpu/rag.tar.xz .
    rm -rf "$publish"
    ls -lh .gpu/rag.tar.xz
    ;;
  rag)
    shift
    if [ ! -x /tmp/rag/rag ]; then
      mkdir -p /tmp/rag && tar -C /tmp/rag -xJf .gpu/rag.tar.xz
    fi
    torch_lib=$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')
    export LD_LIBRARY_PATH="$torch_lib:${LD_LIBRARY_PATH:-}"
    exec /tmp/rag/rag "$@"
    ;;
  *)
    echo "usage: scripts/gpu-run.sh pack | rag ARGS..." >&2
    exit 2
    ;;
esac
