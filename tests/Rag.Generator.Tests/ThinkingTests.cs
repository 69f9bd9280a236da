using Microsoft.Extensions.AI;
using Rag.Generator.Chat;
using Rag.Generator.Generation;
using Rag.Generator.Tokenization;

namespace Rag.Generator.Tests;

public class ThinkingSplitterTests
{
    private static (string Reasoning, string Answer) Split(bool opened, params string[] pieces)
    {
        var splitter = new ThinkingSplitter(opened);
        var parts = pieces.SelectMany(splitter.Push).ToList();
        parts.AddRange(splitter.Flush());
        return (string.Concat(parts.Where(p => p.IsReasoning).Select(p => p.Text)), string.Concat(parts.Where(p => !p.IsReasoning).Select(p => p.Text)));
    }

    [Fact]
    public void An_opened_block_is_reasoning_until_it_closes_even_when_the_tag_arrives_in_pieces()
    {
        Assert.Equal(("Greet them.", "Hello [1]."), Split(opened: true, ">Greet", " them.</th", "ink>", " Hello [1]."));
    }

    [Fact]
    public void A_block_the_model_writes_unasked_is_kept_out_of_the_answer()
    {
        Assert.Equal(("plan", "Answer."), Split(opened: false, " <thi", "nk>plan</think>\nAnswer."));
    }

    [Fact]
    public void Without_a_block_everything_is_answer_without_the_leading_space()
    {
        Assert.Equal(("", "Plain <b>answer</b>."), Split(opened: false, " Plain <b>", "answer</b>."));
    }

    [Fact]
    public void An_unclosed_block_stays_reasoning()
    {
        Assert.Equal(("still thinking <", ""), Split(opened: true, ">still thinking <"));
    }
}

public class RwkvChatClientThinkingTests
{
    private static readonly WorldTokenizer Tokenizer = WorldVocabulary.Tokenizer;
    private static readonly List<ChatMessage> Conversation = [new(ChatRole.User, "Say hello.")];

    private static async Task<ChatResponse> Reply(string reply, string thinking)
    {
        var options = new GeneratorOptions { Thinking = thinking };
        var promptTokens = Tokenizer.CountTokens(ChatPromptFormatter.Format(Conversation, thinking: options.ThinkingEnabled));
        var client = new RwkvChatClient(new ScriptedTestModel(Tokenizer.EncodeToIds(reply), promptTokens), Tokenizer, options);
        return await client.GetResponseAsync(Conversation, new ChatOptions { Temperature = 0 });
    }

    [Fact]
    public void The_think_prompt_opens_the_block_and_the_no_think_prompt_does_not()
    {
        Assert.EndsWith("User: Say hello.\n\nAssistant: <think", ChatPromptFormatter.Format(Conversation, thinking: true));
        Assert.EndsWith("User: Say hello.\n\nAssistant:", ChatPromptFormatter.Format(Conversation));
    }

    [Fact]
    public async Task With_thinking_on_the_reasoning_comes_apart_from_the_answer()
    {
        var response = await Reply(">\nThey want a greeting.\n</think>\nHello there.\n\nUser:", "on");

        Assert.Equal("Hello there.", response.Text);
        var reasoning = string.Concat(response.Messages.SelectMany(m => m.Contents).OfType<TextReasoningContent>().Select(r => r.Text));
        Assert.Equal("\nThey want a greeting.\n", reasoning);
    }

    [Fact]
    public async Task With_thinking_off_an_unasked_block_still_stays_out_of_the_answer()
    {
        var response = await Reply(" <think>hmm</think> Hello.\n\n", "off");
        Assert.Equal("Hello.", response.Text);
    }

    [Fact]
    public void Sampling_defaults_come_from_the_settings_and_a_request_overrides_them()
    {
        using var client = new RwkvChatClient(new ScriptedTestModel([0], 0), Tokenizer, new GeneratorOptions());
        var defaults = client.ToSamplingOptions(null);
        Assert.Equal((1.0, 0.3, 0.5, 0.5, 0.996), (defaults.Temperature, defaults.TopP, defaults.PresencePenalty, defaults.FrequencyPenalty, defaults.PenaltyDecay));
        var requested = client.ToSamplingOptions(new ChatOptions { PresencePenalty = 0, FrequencyPenalty = 0.1f, TopP = 0.9f });
        Assert.Equal((0.0, 0.1, 0.9), (requested.PresencePenalty, Math.Round(requested.FrequencyPenalty, 3), Math.Round(requested.TopP, 3)));
    }
}
