using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rag.Orchestrator.Answering;
using Rag.Orchestrator.Answering.Conversations;

namespace Rag.Orchestrator.Tests;

/// <summary>Follow-ups of a remembered conversation over the samples (no generator: the prompts and what is read).</summary>
public class ConversationTurnsTests
{
    private const string First = "What hydration should a beginner use for sourdough dough?";
    private const string FollowUp = "How long does the dough ferment, and how is the loaf baked and the crumb read?";
    private const string Answer = "Beginners do well at 65 to 70 percent [1].";

    private static RagTestHost Host(int followUpPassages) => new(new Dictionary<string, string?> { ["Ask:FollowUpPassages"] = $"{followUpPassages}" });

    /// <summary>Turn 1 (k = 2), answered and remembered: the history a client resends with its follow-up.</summary>
    private static async Task<(ConversationTurns Turns, ConversationTurn First, List<ChatMessage> History)> AnsweredFirstTurnAsync(RagTestHost host)
    {
        await host.IngestSamplesAsync();
        var turns = host.Services.GetRequiredService<ConversationTurns>();
        var first = await turns.PrepareAsync([], new AskRequest(First, K: 2), CancellationToken.None);
        turns.Remember(first, Answer);
        return (turns, first, [new ChatMessage(ChatRole.User, First), new ChatMessage(ChatRole.Assistant, Answer)]);
    }

    [Fact]
    public async Task A_follow_up_appends_at_most_FollowUpPassages_new_passages_the_best_ranked_unseen_numbered_on()
    {
        const int cap = 3;
        await using var host = Host(cap);
        var (turns, first, history) = await AnsweredFirstTurnAsync(host);
        var read = first.Read.Select(p => p.ChunkId).ToList();
        Assert.Equal(2, read.Count);
        var ranked = (await host.Services.GetRequiredService<AskService>().RetrieveAsync(new AskRequest(FollowUp, K: 64))).Hits;
        var unseen = ranked.Select(h => h.ChunkId).Where(id => !read.Contains(id)).ToList();
        Assert.True(unseen.Count > cap, $"the follow-up retrieves {unseen.Count} unseen passages: too few to show the cap");

        var turn = await turns.PrepareAsync(history, new AskRequest(FollowUp, K: 64), CancellationToken.None);

        Assert.Same(history, turn.Continued);
        Assert.Equal(read, turn.Read.Take(2).Select(p => p.ChunkId));
        var added = turn.Read.Skip(2).Select(p => p.ChunkId).ToList();
        Assert.Equal(unseen.Take(cap).Order(), added.Order());
        var numbers = turn.Context.Citations.Where(c => added.Contains(c.ChunkId)).Select(c => c.Number).Order();
        Assert.Equal([3, 4, 5], numbers);
        var user = turn.Context.Prompt[^1].Text;
        Assert.Contains("[3] ", user);
        Assert.Contains("[5] ", user);
        Assert.DoesNotContain("[6] ", user);
        Assert.DoesNotContain("[1] ", user);  // read in turn 1: it is in the resumed state, not read again
        Assert.EndsWith($"Question: {FollowUp}", user);
    }

    [Fact]
    public async Task With_zero_follow_up_passages_a_follow_up_appends_none_and_still_asks_the_question()
    {
        await using var host = Host(4);
        var (turns, first, history) = await AnsweredFirstTurnAsync(host);

        var turn = await turns.PrepareAsync(history, new AskRequest(FollowUp, K: 64, FollowUpPassages: 0), CancellationToken.None);

        Assert.NotNull(turn.Continued);
        Assert.Equal(first.Read.Select(p => p.ChunkId), turn.Read.Select(p => p.ChunkId));
        Assert.Equal($"Question: {FollowUp}", turn.Context.Prompt[^1].Text);
        Assert.Equal(first.Context.Prompt.Count + 2, turn.Context.Prompt.Count);  // the previous prompt, its answer, the question
    }

    [Fact]
    public async Task A_follow_up_whose_history_is_not_remembered_is_answered_from_full_retrieval()
    {
        await using var host = Host(1);
        await host.IngestSamplesAsync();
        var turns = host.Services.GetRequiredService<ConversationTurns>();
        List<ChatMessage> history = [new(ChatRole.User, First), new(ChatRole.Assistant, "An answer this server never gave.")];

        var turn = await turns.PrepareAsync(history, new AskRequest(FollowUp, K: 8), CancellationToken.None);

        Assert.Null(turn.Continued);
        Assert.True(turn.Read.Count > 1, $"{turn.Read.Count} passages: the cap applies to remembered follow-ups only");
        Assert.Equal(Enumerable.Range(1, turn.Read.Count), turn.Context.Citations.Select(c => c.Number).Order());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1025)]
    public async Task A_request_count_outside_0_to_MaxK_is_refused_naming_the_field_and_the_limit(int count)
    {
        await using var host = Host(4);
        var turns = host.Services.GetRequiredService<ConversationTurns>();

        var e = await Assert.ThrowsAsync<RagInputException>(() => turns.PrepareAsync([], new AskRequest(First, FollowUpPassages: count), CancellationToken.None));

        Assert.Equal($"follow_up_passages must be between 0 and 1024 (Ask:MaxK); got {count}.", e.Message);
        Assert.Equal("follow_up_passages", e.Field);
    }

    [Theory]
    [InlineData("-1", "1024", "Ask:FollowUpPassages -1 must be between 0 and Ask:MaxK 1024.")]
    [InlineData("9", "8", "Ask:FollowUpPassages 9 must be between 0 and Ask:MaxK 8.")]
    public async Task A_setting_outside_0_to_MaxK_is_refused_at_start_naming_it_and_the_limit(string followUpPassages, string maxK, string expected)
    {
        await using var host = new RagTestHost(new Dictionary<string, string?> { ["Ask:FollowUpPassages"] = followUpPassages, ["Ask:MaxK"] = maxK });

        var e = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<AskOptions>>().Value);

        Assert.Equal(expected, e.Message);
    }
}
