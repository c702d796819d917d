using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Data;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Random;
using Shinso.Training;

namespace Shinso.Tests.Data;

/// <summary>Training-time image distortions: exact pixel permutations for flips and shifts, repeatable draws, and their config forms.</summary>
public sealed class ImageAugmentationTests
{
    private const int C = 2, H = 5, W = 7;

    /// <summary>Distinct values, so a permutation of pixels is visible.</summary>
    private static float[] Image() => [.. Enumerable.Range(1, C * H * W).Select(i => (float)i)];

    private static float At(float[] image, int c, int y, int x) => image[(c * H + y) * W + x];

    [Fact]
    public void A_flip_mirrors_every_row_and_twice_is_the_identity()
    {
        var augmenter = new ImageAugmenter(new ImageAugmentation { FlipHorizontal = true }, C, H, W);
        var image = Image();
        augmenter.Flip(image);
        var original = Image();
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) Assert.Equal(At(original, c, y, W - 1 - x), At(image, c, y, x));
        augmenter.Flip(image);
        Assert.Equal(original, image);
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(-2, 0)]
    [InlineData(0, -3)]
    [InlineData(-1, 1)]
    public void A_shift_moves_every_pixel_by_the_offset_and_fills_with_zeros(int dy, int dx)
    {
        var augmenter = new ImageAugmenter(new ImageAugmentation { MaxShift = 3 }, C, H, W);
        var image = Image();
        augmenter.Shift(image, dy, dx);
        var original = Image();
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                {
                    int sy = y - dy, sx = x - dx;
                    float expected = sy is >= 0 and < H && sx is >= 0 and < W ? At(original, c, sy, sx) : 0f;
                    Assert.Equal(expected, At(image, c, y, x));
                }
    }

    [Fact]
    public void A_batch_is_shifted_and_flipped_by_draws_of_its_stream_only_and_each_image_is_a_permutation_within_range()
    {
        var settings = new ImageAugmentation { MaxShift = 1, FlipHorizontal = true };
        var augmenter = new ImageAugmenter(settings, C, H, W);
        const int rows = 40;
        float[] Batch() => [.. Enumerable.Range(0, rows).SelectMany(_ => Image())];
        var stream = RandomStream.Root(7).Derive(ImageAugmentation.StreamPurpose).Derive("step", 3);
        var a = Batch();
        var b = Batch();
        augmenter.Apply(a, rows, stream);
        new ImageAugmenter(settings, C, H, W).Apply(b, rows, stream);
        Assert.Equal(a, b);

        int length = C * H * W, changed = 0;
        for (int r = 0; r < rows; r++)
        {
            var got = a.AsSpan(r * length, length).ToArray();
            // Some offset in [-1, 1]^2 and flip or not reproduces the image exactly.
            bool found = false;
            for (int dy = -1; dy <= 1 && !found; dy++)
                for (int dx = -1; dx <= 1 && !found; dx++)
                    foreach (bool flip in new[] { false, true })
                    {
                        var candidate = Image();
                        augmenter.Shift(candidate, dy, dx);
                        if (flip) augmenter.Flip(candidate);
                        if (candidate.SequenceEqual(got)) { found = true; break; }
                    }
            Assert.True(found, $"row {r} is no shift in range, flipped or not");
            if (!got.SequenceEqual(Image())) changed++;
        }
        Assert.InRange(changed, rows / 2, rows);
        var other = Batch();
        augmenter.Apply(other, rows, RandomStream.Root(7).Derive(ImageAugmentation.StreamPurpose).Derive("step", 4));
        Assert.NotEqual(a, other);
    }

    [Fact]
    public void An_elastic_distortion_moves_a_bar_by_about_a_pixel_and_keeps_its_mass()
    {
        // A one-pixel-wide vertical bar stays a bar displaced by about a pixel: the mass is nearly kept and nothing jumps far.
        var augmenter = new ImageAugmenter(new ImageAugmentation { ElasticAlpha = 34f, ElasticSigma = 4f }, 1, 28, 28);
        var image = new float[28 * 28];
        for (int y = 4; y < 24; y++) image[y * 28 + 14] = 1f;
        var distorted = (float[])image.Clone();
        augmenter.Apply(distorted, 1, RandomStream.Root(1).Derive(ImageAugmentation.StreamPurpose));
        Assert.NotEqual(image, distorted);
        Assert.InRange(distorted.Sum(), 0.6 * image.Sum(), 1.4 * image.Sum());
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                if (distorted[y * 28 + x] > 0.05f) Assert.InRange(x, 14 - 4, 14 + 4);
    }

    [Fact]
    public void The_json_and_command_line_forms_agree_and_bad_items_are_named()
    {
        var parsed = ImageAugmentation.Parse("shift:2,flip,elastic:34:4");
        Assert.Equal(new ImageAugmentation { MaxShift = 2, FlipHorizontal = true, ElasticAlpha = 34f, ElasticSigma = 4f }, parsed);
        var back = ImageAugmentationJson.FromJson(new StrictJson(JsonNode.Parse(ImageAugmentationJson.ToJson(parsed).ToJsonString()), "a.json", "training.augment"));
        Assert.Equal(parsed, back);
        Assert.Contains("rotate:3", Assert.Throws<FormatException>(() => ImageAugmentation.Parse("rotate:3")).Message);
        Assert.Contains("not both", Assert.Throws<FormatException>(() => ImageAugmentation.Parse("shift:2,crop:4")).Message);
        var crop = new ImageAugmentation { CropPadding = 3, ImageShape = [28, 28] };
        var cropBack = ImageAugmentationJson.FromJson(new StrictJson(JsonNode.Parse(ImageAugmentationJson.ToJson(crop).ToJsonString()), "a.json", "training.augment"));
        Assert.Equal(3, cropBack.CropPadding);
        Assert.Equal([28, 28], cropBack.ImageShape!);
        Assert.Contains("training.augment", Assert.Throws<FormatException>(() =>
            ImageAugmentationJson.FromJson(new StrictJson(JsonNode.Parse("""{"shift": -1}"""), "a.json", "training.augment"))).Message);
    }

    [Fact]
    public void A_config_carries_its_augmentation_and_refuses_one_that_does_not_fit()
    {
        var spec = new FeedForwardSpec([1, 28, 28], [LayerSpec.Of("flatten"), LayerSpec.Dense(10)], "softmax-cross-entropy");
        var config = new TrainingConfig { Architecture = spec, Training = new TrainingOptions { Augmentation = new ImageAugmentation { MaxShift = 2, FlipHorizontal = true } } };
        var back = TrainingConfig.FromJson(JsonNode.Parse(config.ToJson().ToJsonString()), "c.json");
        Assert.Equal(config.Training.Augmentation, back.Training.Augmentation);
        string Text(string training) => "{\"architecture\": " + spec.ToJson().ToJsonString() + ", \"training\": " + training + "}";
        Assert.Contains("below 28", Assert.Throws<FormatException>(() => TrainingConfig.FromJson(JsonNode.Parse(Text("{\"augment\": {\"shift\": 30}}")), "c.json")).Message);
        Assert.Contains("normalize", Assert.Throws<FormatException>(() =>
            TrainingConfig.FromJson(JsonNode.Parse(Text("{\"normalize\": true, \"augment\": {\"flip\": true}}")), "c.json")).Message);
    }

    [Fact]
    public void A_flat_input_net_needs_the_image_shape_and_the_trainer_says_so()
    {
        using var cpu = new CpuBackend();
        var net = new FeedForwardNet(cpu, new FeedForwardSpec([784], [LayerSpec.Dense(10)], "softmax-cross-entropy"), 1);
        var optimizer = OptimizerConfig.Defaults("sgd").Create();
        var e = Assert.Throws<ArgumentException>(() => new Trainer(net, optimizer, new TrainingOptions { Augmentation = new ImageAugmentation { FlipHorizontal = true } }));
        Assert.Contains("\"image\"", e.Message);
        _ = new Trainer(net, optimizer, new TrainingOptions { Augmentation = new ImageAugmentation { FlipHorizontal = true, ImageShape = [28, 28] } });
    }
}
