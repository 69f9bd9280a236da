using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Rag.Orchestrator.Api;
using Rag.Orchestrator.Cli;
using Rag.Tests;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Rag.Orchestrator.Tests;

/// <summary>
/// The deployment files, checked without a Docker engine: the compose files against the compose-spec JSON schema
/// (tests/data/compose-spec.json) and against what a safe deployment needs; the Dockerfile and .dockerignore; the
/// `rag health` command the health checks run.
/// </summary>
public sealed partial class DeploymentFilesTests
{
    private static readonly string Root = Directory.GetParent(TestData.Root)!.Parent!.FullName;

    /// <summary>
    /// The schema as published names its dialect "http://json-schema.org/draft/2019-09/schema#" (the validator knows it
    /// by its canonical URI) and keeps draft-04 "id" labels, which 2019-09 ignores and this validator refuses: both are
    /// adjusted here, leaving the rules as they are.
    /// </summary>
    private static readonly Lazy<JsonSchema> ComposeSchema = new(() =>
    {
        var schema = JsonNode.Parse(File.ReadAllText(TestData.Path("compose-spec.json")))!;
        schema["$schema"] = "https://json-schema.org/draft/2019-09/schema";
        RemoveIdLabels(schema);
        return JsonSchema.FromText(schema.ToJsonString());
    });

    /// <summary>Compose durations are Go's ("10s", "1m30s"), as Compose's own validator reads "duration", not ISO 8601's.</summary>
    private static readonly FormatRegistry ComposeFormats = CreateFormats();

    private static FormatRegistry CreateFormats()
    {
        var formats = new FormatRegistry();
        formats.Register(new RegexFormat("duration", @"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"));
        return formats;
    }

    private static void RemoveIdLabels(JsonNode? node)
    {
        if (node is JsonObject map)
        {
            if (map["id"] is JsonValue) map.Remove("id"); // a label; a property named "id" would be a schema object
            foreach (var child in map.Select(c => c.Value).ToList()) RemoveIdLabels(child);
        }
        else if (node is JsonArray list)
        {
            foreach (var child in list) RemoveIdLabels(child);
        }
    }

    private static readonly string[] ComposeFileNames = ["docker-compose.yml", "config/docker-compose.gpu.yml"];

    public static TheoryData<string> ComposeFiles => new(ComposeFileNames);

    [Theory]
    [MemberData(nameof(ComposeFiles))]
    public void Compose_file_is_valid_against_the_compose_spec_schema(string file)
    {
        var errors = SchemaErrors(Load(File.ReadAllText(Path.Combine(Root, file))));

        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Theory]
    [InlineData("    restart: unless-stopped\n", "    restart: unless-stopped\n    restrat: always\n")]
    [InlineData("      retries: 5\n", "      retries: five\n")]
    [InlineData("      interval: 10s\n", "      interval: 10 seconds\n")]
    [InlineData("      condition: service_healthy\n", "      condition: when_ready\n")]
    public void The_schema_check_fails_on_a_broken_compose_file(string valid, string broken)
    {
        var text = File.ReadAllText(Path.Combine(Root, "docker-compose.yml"));
        Assert.Contains(valid, text);

        Assert.NotEmpty(SchemaErrors(Load(text.Replace(valid, broken))));
    }

    [Fact]
    public void Compose_services_are_named_restarted_health_checked_and_wait_for_a_healthy_qdrant()
    {
        var services = Load(File.ReadAllText(Path.Combine(Root, "docker-compose.yml")))["services"]!.AsObject();

        Assert.Equal(["orchestrator", "qdrant", "worker"], services.Select(s => s.Key).Order());
        foreach (var (name, service) in services)
        {
            Assert.False(string.IsNullOrEmpty((string?)service!["image"]), $"{name} has no image name");
            Assert.Equal("unless-stopped", (string?)service["restart"]);
            Assert.NotEmpty(service["healthcheck"]!["test"]!.AsArray());
        }
        Assert.Matches(@"^qdrant/qdrant:v\d+\.\d+\.\d+$", (string?)services["qdrant"]!["image"]);
        Assert.Null(services["qdrant"]!["ports"]);
        foreach (var name in new[] { "orchestrator", "worker" })
        {
            Assert.Equal("service_healthy", (string?)services[name]!["depends_on"]!["qdrant"]!["condition"]);
            Assert.StartsWith("${QDRANT_API_KEY", (string?)services[name]!["environment"]!["Qdrant__ApiKey"]);
        }
        Assert.StartsWith("${QDRANT_API_KEY", (string?)services["qdrant"]!["environment"]!["QDRANT__SERVICE__API_KEY"]);
        var api = services["orchestrator"]!["environment"]!.AsObject();
        Assert.All(api.Where(e => e.Key.StartsWith("Api__Keys__", StringComparison.Ordinal) && e.Key.EndsWith("__Key", StringComparison.Ordinal)),
            key => Assert.Matches(@"^\$\{[A-Z_]+:\?", (string?)key.Value));
        Assert.Contains(api, e => e.Key == "Api__Keys__0__Key");
    }

    [Fact]
    public void Every_variable_the_compose_files_use_is_in_env_example_and_env_is_not_committed()
    {
        var example = File.ReadAllLines(Path.Combine(Root, ".env.example"))
            .Where(l => l.Contains('=') && !l.TrimStart().StartsWith('#')).Select(l => l[..l.IndexOf('=')].Trim()).ToHashSet();
        var used = ComposeFileNames
            .SelectMany(f => Variable().Matches(File.ReadAllText(Path.Combine(Root, f))).Select(m => m.Groups[1].Value)).ToHashSet();

        Assert.NotEmpty(used);
        Assert.Empty(used.Except(example));
        Assert.Contains(".env", File.ReadAllLines(Path.Combine(Root, ".gitignore")));
    }

    [Fact]
    public void Gpu_override_reserves_a_gpu_for_the_generator()
    {
        var orchestrator = Load(File.ReadAllText(Path.Combine(Root, "config/docker-compose.gpu.yml")))["services"]!["orchestrator"]!;

        Assert.Equal("cuda", (string?)orchestrator["environment"]!["Generator__Device"]);
        Assert.Equal("cuda", (string?)orchestrator["build"]!["args"]!["TORCH_BACKEND"]);
        var device = orchestrator["deploy"]!["resources"]!["reservations"]!["devices"]![0]!;
        Assert.Equal("nvidia", (string?)device["driver"]);
        Assert.Contains("gpu", device["capabilities"]!.AsArray().Select(c => (string?)c));
    }

    [Fact]
    public void Image_runs_as_a_non_root_user_with_a_health_check_and_the_build_context_leaves_out_git_and_outputs()
    {
        var dockerfile = File.ReadAllLines(Path.Combine(Root, "Dockerfile"));
        var runtime = dockerfile.Skip(Array.FindLastIndex(dockerfile, l => l.StartsWith("FROM ", StringComparison.Ordinal))).ToList();
        var user = Assert.Single(runtime, l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.DoesNotMatch(@"^USER\s+(root|0)\b", user);
        Assert.True(runtime.IndexOf(user) < runtime.FindIndex(l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal)));
        Assert.Contains(runtime, l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal));

        var ignored = File.ReadAllLines(Path.Combine(Root, ".dockerignore")).Select(l => l.Trim()).ToHashSet();
        foreach (var entry in new[] { ".git", "**/bin/", "**/obj/", "data/", ".env", "tests/", "TestResults/" })
            Assert.Contains(entry, ignored);
    }

    [Fact]
    public async Task Health_command_answers_0_for_a_running_server_and_1_when_none_listens()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"rag-health-test-{Guid.NewGuid():N}");
        var builder = RagApi.CreateBuilder([], settings: new Dictionary<string, string?>
        {
            ["Store:DataDirectory"] = directory,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using (var app = RagApi.Build(builder))
        {
            await app.StartAsync();
            var url = app.Urls.Single();

            Assert.Equal(0, await RagCli.InvokeAsync(["health", "--url", url]));
            Assert.Equal(0, await RagCli.InvokeAsync(["health", "--url", url, "--ready"]));
            await app.StopAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);

        Assert.Equal(CliErrors.Failed, await RagCli.InvokeAsync(["health", "--url", $"http://127.0.0.1:{FreePort()}", "--timeout", "2"]));
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static List<string> SchemaErrors(JsonNode document)
    {
        using var json = JsonDocument.Parse(document.ToJsonString());
        var result = ComposeSchema.Value.Evaluate(json.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, FormatRegistry = ComposeFormats });
        return result.IsValid ? []
            : (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}")).DefaultIfEmpty("invalid").ToList();
    }

    /// <summary>
    /// YAML as Compose reads it: anchors and merge keys (&lt;&lt;) resolved; plain scalars typed by the YAML 1.2 core
    /// schema (true, 3, 1.5, null), quoted ones strings, so the schema sees the types Compose sees.
    /// </summary>
    private static JsonNode Load(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new MergingParser(new Parser(new StringReader(yaml))));
        return ToJson(stream.Documents[0].RootNode)!;
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode list => new JsonArray(list.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: ScalarStyle.Plain } scalar => Typed(scalar.Value ?? ""),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => throw new NotSupportedException($"YAML node {node.NodeType} at {node.Start}"),
    };

    private static JsonNode? Typed(string text) =>
        text is "" or "null" or "~" ? null
        : text is "true" or "false" ? JsonValue.Create(text == "true")
        : long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var i) ? JsonValue.Create(i)
        : double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) ? JsonValue.Create(d)
        : JsonValue.Create(text);

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Variable();
}
