using Rag.Generator.Generation;

namespace Rag.Generator.Tests;

public class StopSequenceFilterTests
{
    [Fact]
    public void Stop_sequence_split_over_pieces_is_never_released()
    {
        var filter = new StopSequenceFilter(["World"]);
        Assert.Equal("Hel", filter.Push("Hel"));
        Assert.Equal("lo ", filter.Push("lo Wo"));
        Assert.False(filter.Stopped);
        Assert.Equal("", filter.Push("rld! and more"));
        Assert.True(filter.Stopped);
        Assert.Equal("", filter.Push("later"));
        Assert.Equal("", filter.Flush());
    }

    [Fact]
    public void Held_text_is_released_once_it_diverges()
    {
        var filter = new StopSequenceFilter(["abc"]);
        Assert.Equal("x", filter.Push("xa"));
        Assert.Equal("", filter.Push("b"));
        Assert.Equal("abd", filter.Push("d"));
        Assert.False(filter.Stopped);
    }

    [Fact]
    public void Flush_releases_a_held_prefix()
    {
        var filter = new StopSequenceFilter(["\n\n"]);
        Assert.Equal("end.", filter.Push("end.\n"));
        Assert.Equal("\n", filter.Flush());
    }

    [Fact]
    public void Earliest_of_several_stops_wins()
    {
        var filter = new StopSequenceFilter(["cd", "b"]);
        Assert.Equal("a", filter.Push("abcd"));
    }
}
