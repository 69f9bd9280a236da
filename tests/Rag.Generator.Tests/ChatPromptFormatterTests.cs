using Microsoft.Extensions.AI;
using Rag.Generator.Chat;

namespace Rag.Generator.Tests;

public class ChatPromptFormatterTests
{
    [Fact]
    public void Formats_turns_separated_by_blank_lines_ending_with_assistant()
    {
        var prompt = ChatPromptFormatter.Format(
        [
            new(ChatRole.System, "You answer briefly."),
            new(ChatRole.User, "hi"),
            new(ChatRole.Assistant, "Hello."),
            new(ChatRole.User, "What is RWKV?"),
        ]);
        Assert.Equal("System: You answer briefly.\n\nUser: hi\n\nAssistant: Hello.\n\nUser: What is RWKV?\n\nAssistant:", prompt);
    }

    [Fact]
    public void Blank_lines_inside_a_message_collapse_so_they_cannot_end_a_turn()
    {
        var prompt = ChatPromptFormatter.Format([new(ChatRole.User, "  first\r\n\r\nsecond\n\n\nthird\nfourth \n")]);
        Assert.Equal("User: first\nsecond\nthird\nfourth\n\nAssistant:", prompt);
    }

    [Fact]
    public void Instructions_come_first_as_a_system_turn_and_empty_messages_are_skipped()
    {
        var prompt = ChatPromptFormatter.Format([new(ChatRole.User, "q"), new(ChatRole.User, " \n ")], instructions: "Use the context.\n\nBe brief.");
        Assert.Equal("System: Use the context.\nBe brief.\n\nUser: q\n\nAssistant:", prompt);
    }

    [Fact]
    public void Unsupported_role_and_empty_conversation_are_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => ChatPromptFormatter.Format([new(ChatRole.Tool, "result")]));
        Assert.Contains("tool", e.Message);
        Assert.Throws<ArgumentException>(() => ChatPromptFormatter.Format([]));
    }
}
