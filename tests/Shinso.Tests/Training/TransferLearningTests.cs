using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Optimizers;
using Shinso.Training;
using Shinso.Tests.Data;

namespace Shinso.Tests.Training;

/// <summary>Layers copied between nets, and per-layer learning-rate multipliers.</summary>
public sealed class TransferLearningTests
{
    private static readonly FeedForwardSpec Mlp = new([784],
        [LayerSpec.Dense(32, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dense(16, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dense(10)],
        "softmax-cross-entropy");

    private static float[] Values(Parameter p) => p.Value.Span.ToArray();

    [Fact]
    public void Copy_takes_the_first_n_weight_layers_and_leaves_the_rest_as_initialised()
    {
        using var cpu = new CpuBackend();
        var source = new FeedForwardNet(cpu, Mlp, seed: 1);
        var target = new FeedForwardNet(cpu, Mlp, seed: 2);
        var untouched = target.Layers[4].Parameters.Select(Values).ToArray();

        var copied = LayerTransfer.Copy(source, target, 2);

        Assert.Equal([0, 2], copied);
        foreach (int i in copied)
            for (int k = 0; k < 2; k++) Assert.Equal(Values(source.Layers[i].Parameters[k]), Values(target.Layers[i].Parameters[k]));
        for (int k = 0; k < 2; k++) Assert.Equal(untouched[k], Values(target.Layers[4].Parameters[k]));
        Assert.NotEqual(Values(source.Layers[4].Parameters[0]), Values(target.Layers[4].Parameters[0]));
    }

    [Fact]
    public void Copying_between_incompatible_shapes_names_both_shapes_and_changes_nothing()
    {
        using var cpu = new CpuBackend();
        var source = new FeedForwardNet(cpu, Mlp, seed: 1);
        var wider = new FeedForwardNet(cpu, Mlp with { Layers = [LayerSpec.Dense(32), LayerSpec.Of("relu"), LayerSpec.Dense(20), LayerSpec.Of("relu"), LayerSpec.Dense(10)] }, seed: 2);
        var before = wider.Parameters.Select(Values).ToArray();

        var e = Assert.Throws<ArgumentException>(() => LayerTransfer.Copy(source, wider, 2));

        Assert.Contains("[32, 16]", e.Message);
        Assert.Contains("[32, 20]", e.Message);
        Assert.Contains("Weight layer 2", e.Message);
        for (int k = 0; k < before.Length; k++) Assert.Equal(before[k], Values(wider.Parameters[k]));

        var image = new FeedForwardNet(cpu, new FeedForwardSpec([1, 28, 28], [LayerSpec.Of("flatten"), LayerSpec.Dense(32), LayerSpec.Dense(10)], "softmax-cross-entropy"), 3);
        var shapes = Assert.Throws<ArgumentException>(() => LayerTransfer.Copy(source, image, 1));
        Assert.Contains("[784]", shapes.Message);
        Assert.Contains("[1, 28, 28]", shapes.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => LayerTransfer.Copy(source, new FeedForwardNet(cpu, Mlp, 4), 4));
    }

    [Fact]
    public void A_conv_layer_is_not_copied_into_a_dense_one()
    {
        using var cpu = new CpuBackend();
        var conv = new FeedForwardNet(cpu, new FeedForwardSpec([1, 28, 28], [LayerSpec.Conv(4, 5), LayerSpec.Of("flatten"), LayerSpec.Dense(10)], "softmax-cross-entropy"), 1);
        var dense = new FeedForwardNet(cpu, new FeedForwardSpec([1, 28, 28], [LayerSpec.Of("flatten"), LayerSpec.Dense(10), LayerSpec.Dense(10)], "softmax-cross-entropy"), 1);
        var e = Assert.Throws<ArgumentException>(() => LayerTransfer.Copy(conv, dense, 1));
        Assert.Contains("conv", e.Message);
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("momentum")]
    [InlineData("adam")]
    public void A_learning_rate_multiplier_scales_the_update_exactly(string rule)
    {
        // The update of a rule is linear in the learning rate: with a multiplier m on one layer, its first step is m times
        // the step the plain rate takes from the same gradient, and the other layers' steps are unchanged.
        var (train, _) = FashionMnist.Load(TestData.EmbeddedSubset, 50, 1);
        var data = SupervisedData.FromDataset(train);
        using var cpu = new CpuBackend();
        float[][] StepOf(IReadOnlyDictionary<int, float> multipliers)
        {
            var net = new FeedForwardNet(cpu, Mlp, seed: 9);
            var before = net.Parameters.Select(Values).ToArray();
            var options = new TrainingOptions { Epochs = 1, BatchSize = 50, Seed = 3, LearningRateMultipliers = multipliers };
            var optimizer = OptimizerConfig.Defaults(rule).Create();
            new Trainer(net, optimizer, options).Fit(data);
            return [.. net.Parameters.Select((p, k) => Values(p).Select((v, i) => v - before[k][i]).ToArray())];
        }
        var plain = StepOf(new Dictionary<int, float>());
        var scaled = StepOf(new Dictionary<int, float> { [2] = 0.25f });
        for (int k = 0; k < plain.Length; k++)
        {
            // Parameters 2 and 3 are layer 2's weight and bias.
            float m = k is 2 or 3 ? 0.25f : 1f;
            for (int i = 0; i < plain[k].Length; i++)
                Assert.True(Math.Abs(scaled[k][i] - m * plain[k][i]) <= 1e-6f + 1e-4f * Math.Abs(m * plain[k][i]),
                    $"{rule}, parameter {k}[{i}]: step {scaled[k][i]} against {m} x {plain[k][i]}");
        }
    }

    [Fact]
    public void Multipliers_round_trip_through_the_config_and_bad_ones_name_the_key()
    {
        var config = new TrainingConfig
        {
            Architecture = Mlp,
            Training = new TrainingOptions { FrozenLayers = [0], LearningRateMultipliers = new Dictionary<int, float> { [2] = 0.1f } },
        };
        var back = TrainingConfig.FromJson(JsonNode.Parse(config.ToJson().ToJsonString()), "test.json");
        Assert.Equal([0], back.Training.FrozenLayers);
        Assert.Equal(0.1f, back.Training.LearningRateMultipliers[2]);

        JsonNode Bad(string multipliers) => JsonNode.Parse("{\"architecture\": " + Mlp.ToJson().ToJsonString() + ", \"training\": {\"learningRateMultipliers\": " + multipliers + "}}")!;
        Assert.Contains("multiplier", Assert.Throws<FormatException>(() => TrainingConfig.FromJson(Bad("""[{"layer": 2, "multiplier": 0}]"""), "a.json")).Message);
        Assert.Contains("layer 7", Assert.Throws<FormatException>(() => TrainingConfig.FromJson(Bad("""[{"layer": 7, "multiplier": 0.5}]"""), "a.json")).Message);
        Assert.Contains("twice", Assert.Throws<FormatException>(() => TrainingConfig.FromJson(Bad("""[{"layer": 2, "multiplier": 0.5}, {"layer": 2, "multiplier": 0.2}]"""), "a.json")).Message);
    }

    [Fact]
    public void The_trainer_refuses_a_multiplier_on_a_layer_without_parameters_or_a_frozen_one()
    {
        using var cpu = new CpuBackend();
        var net = new FeedForwardNet(cpu, Mlp, seed: 1);
        var optimizer = OptimizerConfig.Defaults("sgd").Create();
        Assert.Contains("no parameters", Assert.Throws<ArgumentException>(() =>
            new Trainer(net, optimizer, new TrainingOptions { LearningRateMultipliers = new Dictionary<int, float> { [1] = 0.5f } })).Message);
        Assert.Contains("frozen", Assert.Throws<ArgumentException>(() =>
            new Trainer(net, optimizer, new TrainingOptions { FrozenLayers = [0], LearningRateMultipliers = new Dictionary<int, float> { [0] = 0.5f } })).Message);
    }
}
