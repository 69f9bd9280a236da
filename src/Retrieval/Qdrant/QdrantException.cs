using System.Net;

namespace Rag.Retrieval.Qdrant;

/// <summary>Qdrant refused a request or could not be reached; the message names the request and Qdrant's answer.</summary>
public sealed class QdrantException(string message, HttpStatusCode? statusCode = null, Exception? inner = null)
    : Exception(message, inner)
{
    public HttpStatusCode? StatusCode { get; } = statusCode;
}
