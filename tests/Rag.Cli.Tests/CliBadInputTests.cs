using System.Net;
using System.Net.Sockets;
using Rag.Tests;

namespace Rag.Orchestrator.Tests;

/// <summary>
/// Bad input on the command line is one line on stderr naming the input, exit code 2, no stack trace, and is found
/// before any expensive work (retrieval, model load). Each case runs the real executable.
/// </summary>
public sealed class CliBadInputTests : IDisposable
{
    private readonly CliProcess _cli = new();

    public void Dispose() => _cli.Dispose();

    [Theory]
    [InlineData("model info --model /nonexistent.pth", "/nonexistent.pth: does not exist")]
    [InlineData("model info --model {text}", "supported checkpoint formats are .pth and .safetensors")]
    [InlineData("model info --model {random}", "random.pth: is not a PyTorch .pth file")]
    [InlineData("model check --model {model} --expected /nonexistent.safetensors", "--expected '/nonexistent.safetensors' does not exist")]
    [InlineData("model check --model {model} --expected {text} --dtype int8", "--dtype 'int8' is not supported; use one of auto, fp32, fp16, bf16")]
    [InlineData("model check --model {model} --expected {text} --chunk-length 0", "--chunk-length must be between 1 and 64; got 0")]
    [InlineData("model check --model {model} --expected {text} --kernels maybe", "--kernels 'maybe' is not supported; use auto, on, off")]
    [InlineData("bench generator --shape tiny --dtype int8", "--dtype 'int8' is not supported")]
    [InlineData("search -k abc apples", "-k expects an integer; got 'abc'")]
    [InlineData("search --mode fuzzy apples", "Unknown --mode 'fuzzy'; expected bm25, dense or hybrid")]
    [InlineData("ask --max-tokens 0 apples", "--max-tokens must be between 1 and 512 (Generator:MaxTokens); got 0")]
    [InlineData("ask --temperature -1 apples", "--temperature must be between 0 and 2; got -1")]
    [InlineData("ask --temperature warm apples", "--temperature expects a number; got 'warm'")]
    [InlineData("ask --top-p 0 apples", "--top-p must be in (0, 1]; got 0")]
    [InlineData("jobs list --status finished", "Unknown --status 'finished'; expected one of queued, running, succeeded, failed, dead_lettered")]
    [InlineData("serve --urls localhost:5080", "--urls 'localhost:5080' is not an http:// or https:// address")]
    [InlineData("frobnicate", "Unrecognized command or argument 'frobnicate'")]
    public async Task Bad_input_is_one_line_and_exit_2(string commandLine, string message)
    {
        var text = Path.Combine(_cli.Directory, "notes.txt");
        await File.WriteAllTextAsync(text, "Not a model.");
        var random = Path.Combine(_cli.Directory, "random.pth");
        await File.WriteAllBytesAsync(random, RandomBytes(4096));
        var args = commandLine.Split(' ').Select(a => a.Replace("{text}", text).Replace("{random}", random).Replace("{model}", TinyRwkv.ModelPath));

        AssertOneLine(await _cli.RunAsync(args), message);
    }

    [Fact]
    public async Task A_missing_generator_model_is_named_before_retrieval()
    {
        var result = await _cli.RunAsync(["ask", "apples"], GeneratorEnvironment("/nonexistent.pth", TinyRwkv.VocabPath));

        AssertOneLine(result, "Generator:ModelPath '/nonexistent.pth' does not exist");
        Assert.DoesNotContain("retrieval:", result.Stdout);
    }

    [Fact]
    public async Task Generation_flags_are_checked_before_the_model_is_loaded()
    {
        // The model path is broken too: the flag's error coming first shows nothing was loaded before the check.
        var result = await _cli.RunAsync(["ask", "--max-tokens", "0", "apples"], GeneratorEnvironment("/nonexistent.pth", TinyRwkv.VocabPath));

        AssertOneLine(result, "--max-tokens must be between 1 and 512");
    }

    [Fact]
    public async Task A_vocabulary_beyond_the_models_is_refused_at_load()
    {
        var result = await _cli.RunAsync(["ask", "apples"], GeneratorEnvironment(TinyRwkv.ModelPath, TestData.Path("rwkv_vocab_v20230424.txt")));

        AssertOneLine(result, $"has token ids up to 65529, but the model Generator:ModelPath '{TinyRwkv.ModelPath}' has a vocabulary of 1024");
    }

    [Fact]
    public async Task Kernels_on_where_they_cannot_run_is_one_line()
    {
        // --device cpu: the same on a machine with a GPU as on CI's.
        var result = await _cli.RunAsync(["model", "check", "--model", TinyRwkv.ModelPath, "--expected", TinyRwkv.ExpectedLogitsPath,
            "--device", "cpu", "--kernels", "on"]);

        AssertOneLine(result, "Rag's kernels (Generator:Kernels) need a CUDA device; the model runs on 'cpu'.", exitCode: 1);
    }

    [Fact]
    public async Task Serve_on_a_port_in_use_is_one_line()
    {
        var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        try
        {
            int port = ((IPEndPoint)holder.LocalEndpoint).Port;
            var result = await _cli.RunAsync(["serve", "--urls", $"http://127.0.0.1:{port}"]);

            AssertOneLine(result, $"port {port} is already in use");
            Assert.Equal("", result.Stdout);
        }
        finally
        {
            holder.Stop();
        }
    }

    private static Dictionary<string, string> GeneratorEnvironment(string model, string vocab) =>
        new() { ["Generator__ModelPath"] = model, ["Generator__VocabPath"] = vocab };

    private static void AssertOneLine(CliProcess.Result result, string message, int exitCode = 2)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(message, line);
        Assert.DoesNotContain("Exception", result.Stdout + result.Stderr);
        Assert.DoesNotContain(" at ", result.Stdout);
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(14).NextBytes(bytes);
        return bytes;
    }
}
