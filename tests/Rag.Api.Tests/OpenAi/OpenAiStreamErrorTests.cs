using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Rag.Orchestrator.Api;

namespace Rag.Orchestrator.Tests.OpenAi;

public class OpenAiStreamErrorTests
{
    [Theory]
    [InlineData("/v1/chat/completions", true)]
    [InlineData("/v1/ask", false)]
    public async Task A_failure_after_a_stream_began_ends_an_openai_stream_with_an_error_event_and_no_exception_text(string path, bool openAi)
    {
        await using var services = new ServiceCollection().AddLogging().AddProblemDetails()
            .ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions)).BuildServiceProvider();
        var handler = new ApiExceptionHandler(services.GetRequiredService<IProblemDetailsService>(), NullLogger<ApiExceptionHandler>.Instance);
        var body = new MemoryStream();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Features.Set<IHttpResponseFeature>(new StartedResponse());
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));
        context.Request.Path = path;
        context.Response.ContentType = "text/event-stream; charset=utf-8";

        Assert.True(await handler.TryHandleAsync(context, new InvalidOperationException("native tensor 0x7f00 freed twice"), CancellationToken.None));

        var text = Encoding.UTF8.GetString(body.ToArray());
        if (!openAi)
        {
            Assert.Empty(text);
            return;
        }
        Assert.StartsWith("data: ", text);
        Assert.EndsWith("\n\n", text);
        var error = JsonDocument.Parse(text["data: ".Length..]).RootElement.GetProperty("error");
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Contains("server log", error.GetProperty("message").GetString());
        Assert.DoesNotContain("0x7f00", text);
    }

    private sealed class StartedResponse : HttpResponseFeature
    {
        public override bool HasStarted => true;
    }
}
