using Rag.Orchestrator.Cli;

return await RagCli.Build().Parse(args).InvokeAsync();
