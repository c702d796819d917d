using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Training;
using Shinso.Tests.Data;

namespace Shinso.Tests.Training;

/// <summary>Frozen layers: their parameters never change, and training the rest is exactly training it on their fixed outputs.</summary>
public sealed class FrozenLayerTests
{
    private static readonly FeedForwardSpec ConvNet = new([1, 28, 28],
        [LayerSpec.Conv(4, 5), LayerSpec.Of("tanh"), LayerSpec.Of("abs"), LayerSpec.Pool("avgpool", 4), LayerSpec.Of("flatten"), LayerSpec.Dense(10)],
        "softmax-cross-entropy");

    private static TrainingConfig Config(FeedForwardSpec spec, params int[] frozen) => new()
    {
        Architecture = spec,
        Optimizer = new OptimizerConfig { Name = "momentum", LearningRate = 0.1f, MomentumStart = 0.9f, MomentumEnd = 0.9f },
        WeightDecay = 1e-3f,
        Training = new TrainingOptions { Epochs = 2, BatchSize = 25, Seed = 5, FrozenLayers = frozen },
    };

    private static float[] Values(Parameter p) => p.Value.Span.ToArray();

    [Fact]
    public void Training_above_frozen_layers_equals_training_the_classifier_on_their_fixed_outputs_and_leaves_them_unchanged()
    {
        var (train, _) = FashionMnist.Load(TestData.EmbeddedSubset, 200, 1);
        using var cpu = new CpuBackend();
        var net = new FeedForwardNet(cpu, ConvNet, seed: 7);
        var before = net.Layers[0].Parameters.Select(Values).ToArray();

        // The same dense layer, alone, on the pooled maps of the frozen stage.
        var x = cpu.Allocate(train.Count, train.FeatureCount);
        cpu.Upload(train.Features, x);
        var h = x;
        for (int i = 0; i < 5; i++) h = net.Layers[i].Forward(h, ForwardContext.Inference);
        var features = new Dataset(h.Span.ToArray(), train.Labels, train.ClassCount, [h.Columns]);
        var classifier = new FeedForwardNet(cpu, new FeedForwardSpec([h.Columns], [LayerSpec.Dense(10)], "softmax-cross-entropy"), seed: 7);
        for (int k = 0; k < 2; k++) cpu.Copy(net.Layers[5].Parameters[k].Value, classifier.Layers[0].Parameters[k].Value);

        var config = Config(ConvNet, 0);
        new Trainer(net, config.CreateOptimizer(), config.Training).Fit(SupervisedData.FromDataset(train));
        var alone = Config(classifier.Spec);
        new Trainer(classifier, alone.CreateOptimizer(), alone.Training).Fit(SupervisedData.FromDataset(features));

        for (int k = 0; k < 2; k++) Assert.Equal(before[k], Values(net.Layers[0].Parameters[k]));
        for (int k = 0; k < 2; k++)
        {
            float[] a = Values(net.Layers[5].Parameters[k]), b = Values(classifier.Layers[0].Parameters[k]);
            for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) < 1e-5f, $"{net.Layers[5].Parameters[k].Name}[{i}]: {a[i]} against {b[i]}");
        }
    }

    [Fact]
    public void Trainable_lists_the_unfrozen_parameters_and_the_lowest_layer_backprop_reaches()
    {
        using var cpu = new CpuBackend();
        var net = new FeedForwardNet(cpu, ConvNet, seed: 1);
        var (parameters, lowest) = net.Trainable([0]);
        Assert.Equal(["layer5.weight", "layer5.bias"], parameters.Select(p => p.Name));
        Assert.Equal(5, lowest);
        Assert.Equal((net.Parameters, 0), net.Trainable([]));

        Assert.Contains("Frozen layer 1 (tanh) has no parameters to freeze", Assert.Throws<ArgumentException>(() => net.Trainable([1])).Message);
        Assert.Contains("Frozen layer 6 does not exist: the net has layers 0 to 5", Assert.Throws<ArgumentException>(() => net.Trainable([6])).Message);
        Assert.Contains("no parameter is left to train", Assert.Throws<ArgumentException>(() => net.Trainable([0, 5])).Message);
        Assert.Throws<ArgumentException>(() => new Trainer(net, Config(ConvNet).CreateOptimizer(), new TrainingOptions { FrozenLayers = [2] }));
    }

    [Fact]
    public void A_weight_tied_between_a_frozen_and_a_trained_layer_is_frozen()
    {
        using var cpu = new CpuBackend();
        var spec = FeedForwardSpec.FromJson(new Shinso.IO.StrictJson(JsonNode.Parse("""
            {"input": [6], "loss": "squared-error", "layers": [{"type": "dense", "units": 3}, {"type": "sigmoid"}, {"type": "tied", "to": 0}]}
            """), "tied.json"));
        var net = new FeedForwardNet(cpu, spec, seed: 1);
        var (parameters, lowest) = net.Trainable([0]);
        Assert.Equal(["layer2.bias"], parameters.Select(p => p.Name));
        Assert.Equal(2, lowest);
    }

    [Fact]
    public void The_config_file_keeps_the_frozen_layers_and_refuses_bad_ones_naming_the_key()
    {
        var config = Config(ConvNet, 0);
        var back = TrainingConfig.FromJson(JsonNode.Parse(config.ToJson().ToJsonString()), "run.json");
        Assert.Equal([0], back.Training.FrozenLayers);
        Assert.Empty(TrainingConfig.FromJson(JsonNode.Parse(Config(ConvNet).ToJson().ToJsonString()), "run.json").Training.FrozenLayers);
        Assert.False(Config(ConvNet).ToJson()["training"]!.AsObject().ContainsKey("frozen"));

        string With(string frozen)
        {
            var json = JsonNode.Parse(config.ToJson().ToJsonString())!;
            json["training"]!["frozen"] = JsonNode.Parse(frozen);
            return Assert.Throws<FormatException>(() => TrainingConfig.FromJson(json, "run.json")).Message;
        }
        Assert.Contains("run.json: 'training.frozen' names layer 9; the architecture has layers 0 to 5.", With("[9]"));
        Assert.Contains("run.json: 'training.frozen' names layer 0 twice.", With("[0, 0]"));
        Assert.Contains("training.frozen", With("\"0\""));
    }
}
