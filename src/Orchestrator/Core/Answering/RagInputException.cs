namespace Rag.Orchestrator.Answering;

/// <summary>Input a user can fix (empty question, k out of range…); shown as a message, never a stack trace.</summary>
public sealed class RagInputException(string message) : Exception(message);
