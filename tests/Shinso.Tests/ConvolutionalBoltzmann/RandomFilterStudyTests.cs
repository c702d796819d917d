using Shinso.Backends;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.Boltzmann;
using Shinso.Models.ConvolutionalBoltzmann;
using Shinso.Models.FeedForward;
using Shinso.Tests.Data;
using Shinso.Training;

namespace Shinso.Tests.ConvolutionalBoltzmann;

/// <summary>Jarrett's random-against-learned-filters study: its nets, the pretrained filters as tanh units, and a small run of the whole table.</summary>
public sealed class RandomFilterStudyTests
{
    private static readonly ConvolutionalLayerSpec[] SmallStages = [new(4, 5, 2), new(6, 3, 2, LearningRateScale: 0.1f)];

    [Fact]
    public void A_stage_is_conv_tanh_optional_abs_and_average_pooling_with_a_softmax_layer_on_the_last()
    {
        var spec = RandomFilterStudy.Architecture([1, 28, 28], SmallStages, new FilterStudyArchitecture(2, true), 10);
        Assert.Equal(["conv", "tanh", "abs", "avgpool", "conv", "tanh", "abs", "avgpool", "flatten", "dense"], spec.Layers.Select(l => l.Type));
        Assert.Equal([0, 4], RandomFilterStudy.ConvolutionLayers(spec));
        Assert.Equal(6 * 5 * 5, spec.SampleShapes()[^2][0]);
        var plain = RandomFilterStudy.Architecture([1, 28, 28], SmallStages, new FilterStudyArchitecture(1, false), 10);
        Assert.Equal(["conv", "tanh", "avgpool", "flatten", "dense"], plain.Layers.Select(l => l.Type));
        Assert.Equal("1 stage, average pooling", new FilterStudyArchitecture(1, false).Name);

        Assert.Contains("needs 3 stages; the preset has 2", Assert.Throws<ArgumentException>(() =>
            RandomFilterStudy.Architecture([1, 28, 28], SmallStages, new FilterStudyArchitecture(3, true), 10)).Message);
        Assert.Contains("Layer 3 (conv) on [2, 2, 2]", Assert.Throws<ArgumentException>(() =>
            RandomFilterStudy.Architecture([1, 8, 8], [new(2, 5, 2), new(2, 5, 2)], new FilterStudyArchitecture(2, false), 10)).Message);
    }

    [Fact]
    public void Pretrained_filters_are_the_dbns_centred_and_rescaled_to_the_random_starts_norm_with_biases_that_centre_each_map()
    {
        var (train, _) = FashionMnist.Load(TestData.EmbeddedSubset, 100, 1);
        using var cpu = new CpuBackend();
        var (dbn, _) = ConvolutionalDbn.TrainGreedy(cpu, train, SmallStages, VisibleUnits.Bernoulli, ConvolutionalDbnPresets.CdTraining with { BatchSize = 25 }, 1, seed: 2);
        var net = new FeedForwardNet(cpu, RandomFilterStudy.Architecture([1, 28, 28], SmallStages, new FilterStudyArchitecture(2, false), 10), seed: 2);
        RandomFilterStudy.LoadPretrainedFilters(net, dbn, train);

        foreach (var (layer, stage) in new[] { (0, 0), (3, 1) })
        {
            var conv = (Conv2d)net.Layers[layer];
            float[] loaded = conv.Weight.Value.Span.ToArray(), learned = dbn.Layers[stage].Weights.Span.ToArray();
            int length = conv.Weight.Value.Columns;
            for (int k = 0; k < conv.Weight.Value.Rows; k++)
            {
                var filter = learned.AsSpan(k * length, length).ToArray();
                double mean = filter.Average(w => (double)w);
                double norm = Math.Sqrt(filter.Sum(w => (w - mean) * (w - mean)));
                for (int i = 0; i < length; i++)
                    Assert.True(Math.Abs(loaded[k * length + i] - (filter[i] - mean) * Math.Sqrt(2) / norm) < 1e-5, $"stage {stage + 1} filter {k}[{i}]");
            }
        }
        // Every map's pre-activation averages zero over the images the biases were set on.
        var x = cpu.Allocate(train.Count, train.FeatureCount);
        cpu.Upload(train.Features, x);
        var h = x;
        for (int i = 0; i <= 3; i++)
        {
            h = net.Layers[i].Forward(h, ForwardContext.Inference);
            if (net.Layers[i] is not Conv2d conv) continue;
            var maps = h.Span.ToArray();
            int positions = conv.Geometry.ColumnCount;
            for (int k = 0; k < conv.Filters; k++)
            {
                double sum = 0;
                for (int n = 0; n < train.Count; n++)
                    for (int p = 0; p < positions; p++) sum += maps[(n * conv.Filters + k) * positions + p];
                Assert.True(Math.Abs(sum / (train.Count * positions)) < 1e-4, $"layer {i} map {k}: mean {sum / (train.Count * positions)}");
            }
        }

        var wide = new FeedForwardNet(cpu, RandomFilterStudy.Architecture([1, 28, 28], [new(5, 5, 2)], new FilterStudyArchitecture(1, true), 10), seed: 2);
        Assert.Contains("The stage 1 filters are 4 x 25 in the convolutional DBN and 5 x 25 in the net",
            Assert.Throws<ArgumentException>(() => RandomFilterStudy.LoadPretrainedFilters(wide, dbn, train)).Message);
        var deep = new FeedForwardNet(cpu, RandomFilterStudy.Architecture([1, 28, 28], [.. SmallStages, new(2, 1, 1)], new FilterStudyArchitecture(3, true), 10), seed: 2);
        Assert.Contains("The net has 3 convolutions; the convolutional DBN has 2 layers",
            Assert.Throws<ArgumentException>(() => RandomFilterStudy.LoadPretrainedFilters(deep, dbn, train)).Message);
    }

    [Fact]
    public void A_small_study_fills_every_cell_of_the_table_above_chance()
    {
        var (train, test) = FashionMnist.Load(TestData.EmbeddedSubset, 400, 200);
        using var cpu = new CpuBackend();
        var preset = RandomFilterStudy.Default with { Stages = SmallStages, PretrainEpochs = 1 };
        preset = preset with { Training = preset.Training with { Training = preset.Training.Training with { Epochs = 3, BatchSize = 20 } } };
        var lines = new List<string>();
        var result = RandomFilterStudy.Run(preset, cpu, train, test, seed: 4, lines.Add);
        Assert.Equal(9, result.Cells.Count);
        Assert.Equal(preset.Architectures, result.Cells.Select(c => c.Architecture).Distinct());
        Assert.All(result.Cells, c => Assert.True(c.Accuracy > 0.3, $"{c.Architecture.Name}, {c.Filters}: {c.Accuracy:P1}"));
        Assert.Contains(lines, l => l.StartsWith("pretraining layer 2 epoch 1/1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("2 stages, abs + average pooling, random filters:", StringComparison.Ordinal));

        var flat = new Dataset(train.Features, train.Labels, 10, train.FeatureCount);
        Assert.Throws<ArgumentException>(() => RandomFilterStudy.Run(preset, cpu, flat, test, 4));
    }
}

/// <summary>Lee et al.'s labelled-subset table on a small convolutional DBN.</summary>
public sealed class LabelledSubsetTests
{
    [Fact]
    public void Each_labelled_subset_trains_the_classifier_and_the_fine_tuned_net_for_the_full_sets_updates()
    {
        var (train, test) = FashionMnist.Load(TestData.EmbeddedSubset, 400, 200);
        using var cpu = new CpuBackend();
        var preset = ConvolutionalDbnPresets.Find("conv-rbm")! with { Layers = [new ConvolutionalLayerSpec(4, 5, 2)], Epochs = 1 };
        preset = preset with { FineTuning = preset.FineTuning! with { Training = preset.FineTuning.Training with { Epochs = 3 } },
            Classifier = preset.Classifier! with { Training = preset.Classifier.Training with { Epochs = 2 } } };
        var (dbn, _) = ConvolutionalDbn.TrainGreedy(cpu, train, preset.Layers, preset.Visible, preset.Training with { BatchSize = 25 }, 1, seed: 3);
        var rows = ConvolutionalDbnRun.LabelledSubsets(preset, dbn, cpu, train, test, [100, 400], seed: 3);
        Assert.Equal([100, 400], rows.Select(r => r.Labelled));
        Assert.Equal([12, 3], rows.Select(r => r.Epochs));
        Assert.All(rows, r => Assert.True(r.Classifier > 0.4 && r.FineTuned > 0.4, $"{r.Labelled}: {r.Classifier:P1} / {r.FineTuned:P1}"));
        Assert.Contains("not within the 400 training images", Assert.Throws<ArgumentException>(() =>
            ConvolutionalDbnRun.LabelledSubsets(preset, dbn, cpu, train, test, [401], 3)).Message);
    }
}
