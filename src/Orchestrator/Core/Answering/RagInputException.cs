namespace Rag.Orchestrator.Answering;

/// <summary>Input a user can fix (empty question, k out of range…); shown as a message, never a stack trace.</summary>
public sealed class RagInputException(string message) : Exception(message)
{
    /// <summary>The request field at fault when there is one (the HTTP API reports it, e.g. as OpenAI's error "param").</summary>
    public string? Field { get; init; }
}
