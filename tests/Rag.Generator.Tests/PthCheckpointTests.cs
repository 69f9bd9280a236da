using Rag.Generator.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Rag.Generator.Tests;

public class PthCheckpointTests
{
    [Fact]
    public void Fp32_pth_holds_the_same_tensors_as_the_safetensors_file()
    {
        var pth = PthCheckpoint.Load(CheckpointFiles.FixturePth);
        var safetensors = SafeTensors.Load(TestData.Path("rwkv7", "rwkv7-tiny-a.safetensors"));

        Assert.Equal(safetensors.Keys.Order(), pth.Keys.Order());
        foreach (var (key, expected) in safetensors)
        {
            Assert.Equal(ScalarType.Float32, pth[key].dtype);
            Assert.Equal(expected.shape, pth[key].shape);
            Assert.True(expected.eq(pth[key]).all().item<bool>(), $"{key} differs");
        }
    }

    [Fact]
    public void Bf16_pth_loads_as_bf16_within_rounding_of_the_fp32_weights()
    {
        var bf16 = PthCheckpoint.Load(TestData.Path("rwkv7", "rwkv7-tiny-a-bf16.pth"));
        var fp32 = PthCheckpoint.Load(CheckpointFiles.FixturePth);

        foreach (var (key, expected) in fp32)
        {
            Assert.Equal(ScalarType.BFloat16, bf16[key].dtype);
            // bf16 keeps 8 significand bits, so each weight is within one bf16 step (2^-8 of itself) of the fp32 one;
            // a misread storage (wrong dtype, offset or stride) would be off by far more.
            var excess = (bf16[key].to(ScalarType.Float32) - expected).abs() - expected.abs() * Math.Pow(2, -8);
            Assert.True(excess.max().item<float>() <= 0, $"{key} is not within a bf16 step of the fp32 weight");
        }
    }

    [Fact]
    public void Checkpoint_Load_dispatches_on_the_extension()
    {
        var fromPth = Checkpoint.Load(CheckpointFiles.FixturePth);
        var fromSafeTensors = Checkpoint.Load(TestData.Path("rwkv7", "rwkv7-tiny-a.safetensors"));
        Assert.Equal(fromSafeTensors.Count, fromPth.Count);

        var other = CheckpointFiles.NewPath(".bin");
        File.Copy(CheckpointFiles.FixturePth, other);
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Load(other));
        Assert.Contains(other, e.Message);
        Assert.Contains("'.bin'", e.Message);
    }

    [Fact]
    public void Missing_file_is_named()
    {
        var path = CheckpointFiles.NewPath(".pth");
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void File_that_is_not_a_zip_is_rejected()
    {
        var path = CheckpointFiles.NewPath(".pth");
        File.WriteAllText(path, "certainly not a checkpoint");
        var e = Assert.Throws<CheckpointFormatException>(() => PthCheckpoint.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not a zip archive", e.Message);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.999)]
    public void Truncated_file_is_reported(double keptFraction)
    {
        var path = CheckpointFiles.NewPath(".pth");
        var bytes = File.ReadAllBytes(CheckpointFiles.FixturePth);
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * keptFraction)]);
        var e = Assert.Throws<CheckpointFormatException>(() => PthCheckpoint.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Unsupported_storage_type_is_named()
    {
        var path = CheckpointFiles.WithEditedPickle(CheckpointFiles.FixturePth,
            pickle => CheckpointFiles.Replace(pickle, "torch\nFloatStorage\n", "torch\nComplexDoubleStorage\n"));
        var e = Assert.Throws<CheckpointFormatException>(() => PthCheckpoint.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("torch.ComplexDoubleStorage", e.Message);
    }

    [Fact]
    public void Truncated_pickle_is_reported()
    {
        var path = CheckpointFiles.WithEditedPickle(CheckpointFiles.FixturePth, pickle => pickle[..(pickle.Length / 2)]);
        var e = Assert.Throws<CheckpointFormatException>(() => PthCheckpoint.Load(path));
        Assert.Contains("data.pkl ends", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Unsupported_opcode_is_named_with_its_position()
    {
        // PROTO 2, then INT (text integer, protocol 0) which the reader does not implement.
        var path = CheckpointFiles.PthWithPickle([0x80, 0x02, (byte)'I', (byte)'1', (byte)'\n', (byte)'.']);
        var e = Assert.Throws<CheckpointFormatException>(() => PthCheckpoint.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("unsupported pickle opcode 0x49 ('I') at byte 2", e.Message);
    }

    [Fact]
    public void Pickle_that_is_not_a_state_dict_is_rejected()
    {
        // PROTO 2, EMPTY_LIST, STOP: a list, not a dictionary of tensors.
        var path = CheckpointFiles.PthWithPickle([0x80, 0x02, (byte)']', (byte)'.']);
        var e = Assert.Throws<CheckpointFormatException>(() => PthCheckpoint.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("does not hold a state dict", e.Message);
    }

    [Fact]
    public void Dictionary_of_non_tensors_is_rejected_with_the_key()
    {
        // {'epoch': 3}: EMPTY_DICT, BINUNICODE 'epoch', BININT1 3, SETITEM, STOP.
        byte[] pickle = [0x80, 0x02, (byte)'}', (byte)'X', 5, 0, 0, 0, .. "epoch"u8, (byte)'K', 3, (byte)'s', (byte)'.'];
        var e = Assert.Throws<CheckpointFormatException>(() => PthCheckpoint.Load(CheckpointFiles.PthWithPickle(pickle)));
        Assert.Contains("entry 'epoch'", e.Message);
    }
}
