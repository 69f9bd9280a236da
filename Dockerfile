# The rag executable (CLI, HTTP API, ingestion worker). CPU libtorch by default;
# build with --build-arg TORCH_BACKEND=cuda on a CUDA base image for GPU hosts.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TORCH_BACKEND=cpu
WORKDIR /src
COPY . .
RUN dotnet publish src/Orchestrator/Cli -c Release -r linux-x64 --self-contained false -p:TorchBackend=${TORCH_BACKEND} -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
ENV Store__DataDirectory=/data
VOLUME /data
ENTRYPOINT ["dotnet", "/app/rag.dll"]
