using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Rag.Orchestrator.Api;

/// <summary>Authorization policies of the API: reading (search, ask, chat, listing) and writing (adding, deleting documents).</summary>
public static class ApiPolicies
{
    public const string Read = "rag.read";
    public const string Write = "rag.write";

    /// <summary>Claim type carrying what the caller may do on this build's index: "read" and/or "write".</summary>
    public const string ScopeClaim = "rag:scope";

    public static AuthorizationBuilder AddRagPolicies(this AuthorizationBuilder builder) => builder
        .AddPolicy(Read, p => p.RequireAuthenticatedUser().RequireClaim(ScopeClaim, "read"))
        .AddPolicy(Write, p => p.RequireAuthenticatedUser().RequireClaim(ScopeClaim, "write"));
}

/// <summary>
/// Authenticates "Authorization: Bearer KEY" or "X-Api-Key: KEY" against Api:Keys. Keys are compared as SHA-256
/// hashes in constant time and never logged; the caller is known by the key's name. With no keys configured
/// every caller may read and write.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IOptions<ApiOptions> apiOptions,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";

    private readonly IReadOnlyList<(byte[] Hash, ApiKeyOptions Key)> _keys =
        apiOptions.Value.Keys.Where(k => !string.IsNullOrEmpty(k.Key)).Select(k => (Hash(k.Key), k)).ToList();

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (_keys.Count == 0) return Task.FromResult(Success("anonymous", canRead: true, canWrite: true));

        var presented = PresentedKey();
        if (presented is null) return Task.FromResult(AuthenticateResult.NoResult());
        var key = Match(Hash(presented));
        if (key is null) return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));

        bool covers = key.CoversIndex(ApiOptions.DefaultIndex);
        return Task.FromResult(Success(key.Name, canRead: covers, canWrite: covers && key.CanWrite));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized",
            $"Send an API key as 'Authorization: Bearer <key>' or '{HeaderName}: <key>'; the key was missing or is not valid.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden",
            $"This API key may not do this: writing needs CanWrite, and every route needs access to the index '{ApiOptions.DefaultIndex}' (Api:Keys:N:Indexes).");

    private string? PresentedKey()
    {
        string? header = Request.Headers.Authorization;
        if (header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return header["Bearer ".Length..].Trim();
        string? apiKey = Request.Headers[HeaderName];
        return string.IsNullOrEmpty(apiKey) ? null : apiKey.Trim();
    }

    /// <summary>Compares with every configured key, so the time taken does not tell which one (or whether any) matched.</summary>
    private ApiKeyOptions? Match(byte[] hash)
    {
        ApiKeyOptions? found = null;
        foreach (var (candidate, key) in _keys)
            if (CryptographicOperations.FixedTimeEquals(candidate, hash)) found ??= key;
        return found;
    }

    private AuthenticateResult Success(string name, bool canRead, bool canWrite)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name) };
        if (canRead) claims.Add(new Claim(ApiPolicies.ScopeClaim, "read"));
        if (canWrite) claims.Add(new Claim(ApiPolicies.ScopeClaim, "write"));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized) Response.Headers.WWWAuthenticate = "Bearer";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
