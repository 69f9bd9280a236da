using Microsoft.Extensions.Options;

namespace Rag.Ingest.Jobs;

/// <summary>Rejects an unusable "Jobs" section at startup, naming the key, its value and the rule.</summary>
public sealed class IngestJobOptionsValidator : IValidateOptions<IngestJobOptions>
{
    public ValidateOptionsResult Validate(string? name, IngestJobOptions options)
    {
        const string s = IngestJobOptions.SectionName;
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.FileName))
            errors.Add($"{s}:FileName must name the queue database file, e.g. jobs.db.");
        if (!(options.LeaseSeconds > 0))
            errors.Add($"{s}:LeaseSeconds ({options.LeaseSeconds}) must be positive.");
        if (!(options.HeartbeatSeconds > 0) || options.HeartbeatSeconds >= options.LeaseSeconds)
            errors.Add($"{s}:HeartbeatSeconds ({options.HeartbeatSeconds}) must be positive and less than {s}:LeaseSeconds ({options.LeaseSeconds}).");
        if (options.MaxAttempts < 1)
            errors.Add($"{s}:MaxAttempts ({options.MaxAttempts}) must be at least 1.");
        if (!(options.BackoffSeconds >= 0))
            errors.Add($"{s}:BackoffSeconds ({options.BackoffSeconds}) must be at least 0.");
        if (!(options.PollSeconds > 0))
            errors.Add($"{s}:PollSeconds ({options.PollSeconds}) must be positive.");
        if (!(options.RetainFinishedDays >= 0))
            errors.Add($"{s}:RetainFinishedDays ({options.RetainFinishedDays}) must be at least 0 (0 keeps finished jobs).");
        if (!(options.ProgressSeconds > 0))
            errors.Add($"{s}:ProgressSeconds ({options.ProgressSeconds}) must be positive.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
