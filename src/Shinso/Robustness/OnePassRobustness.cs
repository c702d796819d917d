using System.Numerics.Tensors;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Numerics;

namespace Shinso.Robustness;

/// <summary>
/// The one-pass noise-robustness test (after Yasuda, Sakata, Cho, Harada, Tanaka &amp; Yokoyama, "An efficient test method
/// for noise robustness of deep neural networks", NOLTA 2019): instead of classifying many noisy copies of every input,
/// expand the net's output to first order in the input noise. One forward pass and one backward pass of the margins'
/// gradients per input give <see cref="LinearizedMargins"/>, from which the probability of misclassifying each input
/// follows for any noise level in closed form (a Gaussian orthant probability).
/// </summary>
/// <remarks>
/// The first-order expansion is exact for a linear classifier and for Gaussian noise; for a nonlinear net it holds while
/// the noise stays within the region where the net is close to linear around the input, so the estimate is best at small
/// noise (compare it with <see cref="MonteCarloRobustness"/>). Other zero-mean noise laws with the same variance give the
/// same linearised margins, Gaussian in the limit of many inputs by the central limit theorem.
/// </remarks>
public static class OnePassRobustness
{
    /// <summary>Inputs linearised per pass (each with one gradient row per competitor).</summary>
    public const int DefaultBatch = 64;

    /// <summary>
    /// Linearises <paramref name="net"/>'s scores around every input of <paramref name="data"/>: one inference pass, then one
    /// input-gradient pass seeded with <c>e_label - e_competitor</c> per competitor, all of an input's seeds sharing its forward
    /// pass where every layer allows (<see cref="FeedForwardNet.CanRepeatInputGradient"/>; otherwise the input is repeated once
    /// per competitor in a second forward pass).
    /// </summary>
    /// <param name="net">A classifier: the largest of its raw scores is its answer.</param>
    /// <param name="data">The inputs and their labels (features as the net takes them).</param>
    /// <param name="competitors">The competing classes per input: all others (the default), or the ones with the highest clean scores.</param>
    /// <param name="batch">Inputs per pass.</param>
    /// <exception cref="ArgumentException">The data does not fit the net, or the net has fewer than two outputs.</exception>
    public static LinearizedMargins Linearize(FeedForwardNet net, Dataset data, int competitors = int.MaxValue, int batch = DefaultBatch) =>
        Linearize(net, data, competitors, batch, forceRepeatedRows: false);

    /// <summary>As the public form; <paramref name="forceRepeatedRows"/> takes the repeated-rows path even where the layers share one forward pass (the tests' reference).</summary>
    internal static LinearizedMargins Linearize(FeedForwardNet net, Dataset data, int competitors, int batch, bool forceRepeatedRows)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(competitors);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        int classes = net.Spec.OutputLength, width = net.Spec.InputLength;
        CheckClassifier(net, data);
        int m = Math.Min(competitors, classes - 1);
        var backend = net.Backend;
        int count = data.Count;
        var labels = (int[])data.Labels.Clone();
        var predictions = new int[count];
        var competitorClasses = new int[count * m];
        var margins = new double[count * m];
        var gram = new double[count * m * m];

        int rows = Math.Min(batch, Math.Max(count, 1)) * m;
        bool repeats = net.CanRepeatInputGradient && !forceRepeatedRows;
        var hostInputs = repeats ? null : new float[rows * width];
        var hostScores = new float[rows * classes];
        var hostSeeds = new float[rows * classes];
        var hostGradients = new float[rows * width];
        var clean = backend.Allocate(Math.Min(batch, Math.Max(count, 1)), width);
        var inputs = repeats ? null : backend.Allocate(rows, width);
        var seeds = backend.Allocate(rows, classes);
        var order = new int[classes];
        for (int first = 0; first < count; first += batch)
        {
            int n = Math.Min(batch, count - first);
            // The clean pass picks the competitors (highest scores first); its scores are the margins' base.
            var cleanView = clean.SliceRows(0, n);
            backend.Upload(data.Features.AsSpan(first * width, n * width), cleanView);
            backend.Download(net.Forward(cleanView, ForwardContext.Inference), hostScores.AsSpan(0, n * classes));
            for (int i = 0; i < n; i++)
            {
                int input = first + i, label = labels[input];
                var scores = hostScores.AsSpan(i * classes, classes);
                predictions[input] = TensorPrimitives.IndexOfMax(scores);
                int kept = 0;
                for (int c = 0; c < classes; c++) if (c != label) order[kept++] = c;
                var others = order.AsSpan(0, kept);
                // Highest score first, ties by class (an insertion sort: stable, and a handful of classes).
                for (int a = 1; a < kept; a++)
                {
                    int c = others[a], b = a - 1;
                    for (; b >= 0 && scores[others[b]] < scores[c]; b--) others[b + 1] = others[b];
                    others[b + 1] = c;
                }
                for (int k = 0; k < m; k++)
                {
                    int competitor = others[k];
                    competitorClasses[input * m + k] = competitor;
                    margins[input * m + k] = (double)scores[label] - scores[competitor];
                }
            }
            // Row i*m + k carries input i and the seed e_label - e_competitor_k: its input gradient is ∇μ_k.
            Array.Clear(hostSeeds);
            for (int i = 0; i < n; i++)
                for (int k = 0; k < m; k++)
                {
                    int row = i * m + k;
                    hostSeeds[row * classes + labels[first + i]] = 1;
                    hostSeeds[row * classes + competitorClasses[(first + i) * m + k]] = -1;
                }
            var seedView = seeds.SliceRows(0, n * m);
            backend.Upload(hostSeeds.AsSpan(0, n * m * classes), seedView);
            Shinso.Tensors.Tensor gradients;
            if (repeats)
            {
                // The m seeds of an input share its clean forward pass.
                gradients = net.RepeatedInputGradient(seedView, m);
            }
            else
            {
                // A layer that cannot share one forward pass between seeds gets one forward row per seed.
                for (int i = 0; i < n; i++)
                {
                    var x = data.Features.AsSpan((first + i) * width, width);
                    for (int k = 0; k < m; k++) x.CopyTo(hostInputs!.AsSpan((i * m + k) * width, width));
                }
                var inputView = inputs!.SliceRows(0, n * m);
                backend.Upload(hostInputs.AsSpan(0, n * m * width), inputView);
                net.Forward(inputView, ForwardContext.Inference);
                gradients = net.InputGradient(seedView);
            }
            backend.Download(gradients, hostGradients.AsSpan(0, n * m * width));
            for (int i = 0; i < n; i++)
                GramMatrix.Compute(hostGradients.AsSpan(i * m * width, m * width), m, width, gram.AsSpan((first + i) * m * m, m * m));
        }
        return new LinearizedMargins(labels, predictions, m, competitorClasses, margins, gram);
    }

    /// <summary>Checks that <paramref name="data"/> fits <paramref name="net"/> as a classifier's test set.</summary>
    internal static void CheckClassifier(FeedForwardNet net, Dataset data)
    {
        int classes = net.Spec.OutputLength;
        if (classes < 2) throw new ArgumentException($"A classifier has at least two outputs; this net has {classes}.", nameof(net));
        if (data.FeatureCount != net.Spec.InputLength)
            throw new ArgumentException($"The net takes {net.Spec.InputLength} inputs per sample; the data has {data.FeatureCount}.", nameof(data));
        foreach (int label in data.Labels)
            if ((uint)label >= (uint)classes) throw new ArgumentException($"Label {label} is not one of the net's {classes} classes.", nameof(data));
    }
}
