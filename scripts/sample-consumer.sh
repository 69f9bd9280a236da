#!/usr/bin/env bash
# Builds and runs samples/KernelConsole as an agent builder would: the libraries packed into a local folder feed
# (artifacts/packages), the app referencing only the Rag.SemanticKernel package. Fails when ASP.NET Core (or the rag
# executable) reaches the app's output, or when ingest, search and ask through the plugin fail with the tiny RWKV-7
# fixture. PACK_NO_BUILD=1 packs what a Debug build left (CI runs it after the tests).
set -euo pipefail
cd "$(dirname "$0")/.."

version="0.1.0-ci.$(date +%s)"  # fresh each run: the NuGet cache never hands back a stale package
feed="$(pwd)/artifacts/packages"
work="$(mktemp -d)"
cache="$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')"
trap 'rm -rf "$work" "$cache"/rag.*/"$version"' EXIT

rm -rf "$feed"
for project in src/Generator/Torch src/Generator src/Retrieval src/Retrieval/Embeddings src/Ingest src/Orchestrator/Core src/Orchestrator/SemanticKernel; do
  dotnet pack "$project" ${PACK_NO_BUILD:+--no-build -c Debug} -o "$feed" -p:Version="$version" --nologo -v q
done

app=samples/KernelConsole
out="$app/bin/Release/net10.0"
rm -rf "$app/bin" "$app/obj"
dotnet build "$app" -c Release -p:RagVersion="$version" --nologo -v q

if ls "$out" | grep -qi '^Microsoft\.AspNetCore\.' || grep -q 'Microsoft.AspNetCore.App' "$out/KernelConsole.runtimeconfig.json" \
   || [ -e "$out/rag.dll" ] || [ -e "$out/appsettings.json" ]; then
  echo "sample-consumer: ASP.NET Core or the rag executable reached $out" >&2
  exit 1
fi

# The fixture model knows the first 1024 ids of the World vocabulary (as tests/Shared/TinyRwkv.cs cuts it).
awk '$1 < 1024' tests/data/rwkv_vocab_v20230424.txt > "$work/vocab.txt"
dotnet "$out/KernelConsole.dll" --Store:DataDirectory="$work/data" \
  --Generator:ModelPath="$(pwd)/tests/data/rwkv7/rwkv7-tiny-a.pth" --Generator:VocabPath="$work/vocab.txt" \
  --Generator:Temperature=0 --Generator:MaxTokens=8 --Generator:ChunkLength=64
