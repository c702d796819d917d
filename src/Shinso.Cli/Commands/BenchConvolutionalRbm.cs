using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Data;
using Shinso.Models.ConvolutionalBoltzmann;

namespace Shinso.Cli.Commands;

/// <summary>
/// <c>shinso bench train --model conv-rbm</c>: seconds per CD-1 epoch of the preset's convolutional RBM over the training images,
/// through <see cref="ConvolutionalRbmTrainer.TrainEpoch"/> as <c>shinso train</c> runs it (probabilistic max-pooling, hidden
/// samples, sampled visible units, sparsity, weight decay, momentum), with the reconstruction error left off as in
/// perf/peers/conv_rbm_torch.py, the same arithmetic in PyTorch.
/// </summary>
internal static class BenchConvolutionalRbm
{
    /// <summary>The presets this benchmark times: the single-layer convolutional RBMs.</summary>
    public static IEnumerable<string> Names => ConvolutionalDbnPresets.Names.Where(n => ConvolutionalDbnPresets.Find(n)!.Layers.Count == 1);

    /// <summary>Times one warm-up and <paramref name="epochs"/> timed epochs and prints the result line.</summary>
    public static void Run(IBackend backend, string name, LoadedData data, int? limit, int? batch, int epochs, bool json)
    {
        var preset = ConvolutionalDbnPresets.Find(name)!;
        var train = limit is int n ? data.Train.Take(Math.Min(n, data.Train.Count)) : data.Train;
        var layer = preset.Layers[0];
        int channels, height, width;
        try { (channels, height, width) = ImagePatches.Geometry(train, layer.Filter); }
        catch (ArgumentException e) { throw new UsageException($"--data: {CommonOptions.WithoutParameter(e)}"); }
        var options = preset.Training with { BatchSize = batch ?? preset.Training.BatchSize, TrackReconstructionError = false, Seed = 1 };
        if (options.BatchSize < 1) throw new UsageException($"--batch must be >= 1, got {options.BatchSize}.");
        if (train.Count < options.BatchSize) throw new UsageException($"--data: {train.Count} training images make no batch of {options.BatchSize}.");
        ConvolutionalRbm rbm;
        try { rbm = new ConvolutionalRbm(backend, channels, height, width, layer.Groups, layer.Filter, layer.Block, preset.Visible, seed: 1); }
        catch (ArgumentException e) { throw new UsageException($"--data: {CommonOptions.WithoutParameter(e)}"); }
        var trainer = new ConvolutionalRbmTrainer(rbm, options);
        try { trainer.TrainEpoch(train, 0); }
        catch (ArgumentException e) { throw new UsageException($"--data: {CommonOptions.WithoutParameter(e)}"); }
        var times = new List<double>();
        for (int e = 1; e <= epochs; e++) times.Add(trainer.TrainEpoch(train, e).Seconds);
        times.Sort();
        double best = times[0], median = times[times.Count / 2];
        int images = train.Count - train.Count % options.BatchSize;
        if (json)
        {
            Console.WriteLine(new JsonObject
            {
                ["benchmark"] = "train", ["model"] = name, ["algorithm"] = "cd1", ["batch"] = options.BatchSize, ["images"] = images,
                ["groups"] = layer.Groups, ["filter"] = layer.Filter, ["block"] = layer.Block, ["data"] = data.Description, ["epochs_timed"] = epochs,
                ["seconds_per_epoch_best"] = Math.Round(best, 3), ["seconds_per_epoch_median"] = Math.Round(median, 3),
            }.WithBackend(backend).ToJsonString());
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"train {name} CD-1 ({layer.Groups} groups of {layer.Filter}x{layer.Filter}, {layer.Block}x{layer.Block} blocks) batch {options.BatchSize}, {images} images, " +
                $"{CommonOptions.Describe(backend)}: {best:F3} s/epoch best, {median:F3} median"));
        }
    }
}
