using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Rag.Orchestrator.Api;

namespace Rag.Orchestrator.Tests;

public class ApiExceptionHandlerTests
{
    [Theory]
    [InlineData("CUDA out of memory. Tried to allocate 20.00 GiB")]
    [InlineData("[enforce fail at alloc_cpu.cpp] DefaultCPUAllocator: not enough memory: you tried to allocate; out of memory")]
    public async Task A_generator_out_of_memory_is_a_413_naming_the_settings_not_a_500(string message)
    {
        await using var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var handler = new ApiExceptionHandler(services.GetRequiredService<Microsoft.AspNetCore.Http.IProblemDetailsService>(), NullLogger<ApiExceptionHandler>.Instance);
        var context = new DefaultHttpContext { RequestServices = services };
        context.Response.Body = new MemoryStream();

        Assert.True(await handler.TryHandleAsync(context, new System.Runtime.InteropServices.ExternalException(message), CancellationToken.None));

        Assert.Equal(StatusCodes.Status413PayloadTooLarge, context.Response.StatusCode);
        context.Response.Body.Position = 0;
        var body = await new StreamReader(context.Response.Body).ReadToEndAsync();
        Assert.Contains("Ask:PromptTokenBudget", body);
        Assert.DoesNotContain("alloc_cpu", body);
    }
}
