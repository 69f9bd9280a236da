using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Rag.Orchestrator.Benchmarks;

/// <summary>A streamed chat completion as read by the benchmarks: its text, the time to its first token, and its usage.</summary>
internal sealed record ChatStreamResult(string Answer, double TtftMs, JsonElement Usage)
{
    public long CompletionTokens => Usage.GetProperty("completion_tokens").GetInt64();
}

internal static class ChatStream
{
    /// <summary>
    /// Reads server-sent chat completion chunks to <c>data: [DONE]</c>; null when the stream ends without it or without a
    /// usage chunk (request it with stream_options.include_usage). Time to first token is from <paramref name="sent"/> to
    /// the first text, or to the finish of a reply that has none.
    /// </summary>
    public static async Task<ChatStreamResult?> ReadAsync(HttpResponseMessage response, Stopwatch sent, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        double ttft = 0;
        var answer = new StringBuilder();
        JsonElement? usage = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            var data = line["data: ".Length..];
            if (data == "[DONE]") return usage is { } u ? new ChatStreamResult(answer.ToString(), ttft, u) : null;
            using var document = JsonDocument.Parse(data);  // pooled buffers, returned per chunk: the load generator shares the server's cores
            var chunk = document.RootElement;
            if (chunk.TryGetProperty("usage", out var chunkUsage) && chunkUsage.ValueKind == JsonValueKind.Object) usage = chunkUsage.Clone();
            foreach (var choice in chunk.GetProperty("choices").EnumerateArray())
            {
                var text = choice.GetProperty("delta").TryGetProperty("content", out var content) ? content.GetString() : null;
                if (ttft == 0 && (text is { Length: > 0 } || choice.GetProperty("finish_reason").ValueKind == JsonValueKind.String))
                    ttft = sent.Elapsed.TotalMilliseconds;
                answer.Append(text);
            }
        }
        return null;
    }
}
