using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Data;
using Shinso.IO;
using Shinso.Models.FeedForward;
using Shinso.Tensors;
using Shinso.Training;

namespace Shinso.Cli.Reports;

/// <summary>A classifier's counts on a test set: row = true class, column = predicted class (the largest score).</summary>
/// <param name="Labels">The class names, indexed by label.</param>
/// <param name="Counts">Row-major counts, <c>Labels.Count</c> squared.</param>
internal sealed record ConfusionMatrix(IReadOnlyList<string> Labels, int[] Counts)
{
    /// <summary>The number of classes.</summary>
    public int Classes => Labels.Count;

    /// <summary>Test samples of class <paramref name="truth"/> predicted as <paramref name="predicted"/>.</summary>
    public int this[int truth, int predicted] => Counts[truth * Classes + predicted];

    /// <summary>The counts of <paramref name="net"/>'s predictions (dropout off) on <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The data has no labels.</exception>
    public static ConfusionMatrix Of(FeedForwardNet net, SupervisedData data, IReadOnlyList<string> labels)
    {
        if (data.Labels is null) throw new ArgumentException("A confusion matrix needs labelled rows.", nameof(data));
        var counts = new int[labels.Count * labels.Count];
        Trainer.Evaluate(net, data, confusion: counts);
        return new ConfusionMatrix(labels, counts);
    }

    /// <summary>The counts of the largest of <paramref name="scores"/>' outputs for each row of <paramref name="data"/>.</summary>
    /// <param name="backend">Where the rows go.</param>
    /// <param name="scores">A batch of inputs to a batch of one score per class.</param>
    /// <param name="data">Labelled test rows.</param>
    /// <param name="labels">The class names (as many as the scores).</param>
    /// <exception cref="ArgumentException">The data has no labels.</exception>
    public static ConfusionMatrix Of(IBackend backend, Func<Tensor, Tensor> scores, SupervisedData data, IReadOnlyList<string> labels)
    {
        var truth = data.Labels ?? throw new ArgumentException("A confusion matrix needs labelled rows.", nameof(data));
        int classes = labels.Count, batch = Math.Max(1, Math.Min(500, data.Count));
        var counts = new int[classes * classes];
        var inputs = backend.Allocate(batch, data.InputLength);
        var host = new float[batch * classes];
        for (int start = 0; start < data.Count; start += batch)
        {
            int rows = Math.Min(batch, data.Count - start);
            var x = inputs.SliceRows(0, rows);
            backend.Upload(data.Inputs.AsSpan(start * data.InputLength, rows * data.InputLength), x);
            backend.Download(scores(x), host.AsSpan(0, rows * classes));
            for (int r = 0; r < rows; r++)
            {
                int label = truth[start + r];
                // A label outside the classifier's outputs has no row; Prepare refuses such data before training.
                if ((uint)label < (uint)classes) counts[label * classes + Trainer.ArgMax(host.AsSpan(r * classes, classes))]++;
            }
        }
        return new ConfusionMatrix(labels, counts);
    }

    /// <summary>
    /// Names for <paramref name="count"/> classes of <paramref name="data"/>: CIFAR-10's and Fashion-MNIST's own (an IDX folder
    /// whose path names Fashion-MNIST), else the label numbers.
    /// </summary>
    public static IReadOnlyList<string> ClassNames(LoadedData data, int count)
    {
        if (data.Format == DataFormat.Cifar10 && count == Cifar10.ClassNames.Count) return Cifar10.ClassNames;
        if (data.Format == DataFormat.Idx && count == FashionMnist.ClassNames.Count && data.Description.Contains("fashion", StringComparison.OrdinalIgnoreCase))
            return FashionMnist.ClassNames;
        return Numbered(count);
    }

    /// <summary>The names <c>0</c> .. <c>count - 1</c>.</summary>
    public static IReadOnlyList<string> Numbered(int count) => [.. Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>The matrix as <c>run.json</c> holds it.</summary>
    public JsonObject ToJson() => new()
    {
        ["labels"] = new JsonArray([.. Labels.Select(l => (JsonNode)l)]),
        ["counts"] = new JsonArray([.. Counts.Select(c => (JsonNode)c)]),
    };

    /// <summary>Reads what <see cref="ToJson"/> wrote.</summary>
    /// <exception cref="FormatException">A field is missing or the counts do not fill a square of the labels.</exception>
    public static ConfusionMatrix FromJson(StrictJson json)
    {
        var labels = json.StringArray("labels");
        var counts = json.IntArray("counts");
        if (counts.Length != labels.Length * labels.Length)
            throw json.Invalid("counts", $"holds {counts.Length} counts; {labels.Length} labels need {labels.Length * labels.Length} (row-major, rows the true class).");
        if (counts.Any(c => c < 0)) throw json.Invalid("counts", "must not be negative.");
        return new ConfusionMatrix(labels, counts);
    }
}
