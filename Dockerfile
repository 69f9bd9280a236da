# The rag executable (CLI, HTTP API, ingestion worker). CPU libtorch by default;
# build with --build-arg TORCH_BACKEND=cuda for GPU hosts (config/docker-compose.gpu.yml does).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TORCH_BACKEND=cpu
WORKDIR /src
COPY . .
RUN dotnet publish src/Orchestrator/Cli -c Release -r linux-x64 --self-contained false -p:TorchBackend=${TORCH_BACKEND} -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# The data volume belongs to the image's unprivileged user (APP_UID), created before the volume so a new named
# volume starts with that owner; nothing runs as root.
RUN mkdir -p /data/uploads && chown -R "$APP_UID" /data
USER $APP_UID
ENV Store__DataDirectory=/data
VOLUME /data
EXPOSE 8080
# `rag health` asks the server itself (no curl in the image); the worker service replaces this check.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["dotnet", "/app/rag.dll", "health", "--url", "http://127.0.0.1:8080"]
ENTRYPOINT ["dotnet", "/app/rag.dll"]
