using Rag.Orchestrator.Cli;

return await RagCli.InvokeAsync(args);
