using Shinso.Models.FeedForward;

namespace Shinso.Models.Boltzmann;

/// <summary>What a grid of label-clamped generated images is worth: how many are blank, how many a classifier reads as their label.</summary>
/// <param name="Count">Images measured.</param>
/// <param name="BlankFraction">The share whose mean intensity is below <see cref="SampleQuality.BlankIntensity"/>.</param>
/// <param name="LabelAgreement">The share the classifier assigns to the label they were generated for (null without a classifier).</param>
public sealed record SampleQualityReport(int Count, double BlankFraction, double? LabelAgreement);

/// <summary>Measures generated images; see <see cref="SampleQualityReport"/>.</summary>
public static class SampleQuality
{
    /// <summary>Below this mean pixel value (on [0, 1]) an image counts as blank.</summary>
    public const float BlankIntensity = 0.03f;

    /// <summary>
    /// Measures <paramref name="images"/> (row-major, <c>labels.Length x pixels</c>) generated for <paramref name="labels"/>,
    /// classified by <paramref name="classifier"/> when one is given (its outputs' argmax).
    /// </summary>
    public static SampleQualityReport Measure(ReadOnlySpan<float> images, ReadOnlySpan<int> labels, FeedForwardNet? classifier, int batchSize = 500)
    {
        int n = labels.Length;
        if (n == 0 || images.Length % n != 0)
            throw new ArgumentException($"{images.Length} values are not {n} whole images.", nameof(images));
        int pixels = images.Length / n;
        int blank = 0;
        for (int i = 0; i < n; i++)
        {
            double sum = 0;
            foreach (float x in images.Slice(i * pixels, pixels)) sum += x;
            if (sum / pixels < BlankIntensity) blank++;
        }
        if (classifier is null) return new SampleQualityReport(n, blank / (double)n, null);
        var be = classifier.Backend;
        int agree = 0;
        var full = be.Allocate(Math.Min(batchSize, n), pixels);
        for (int start = 0; start < n; start += batchSize)
        {
            int rows = Math.Min(batchSize, n - start);
            var input = rows == full.Rows ? full : be.Allocate(rows, pixels);
            be.Upload(images.Slice(start * pixels, rows * pixels), input);
            var output = classifier.Predict(input);
            var scores = new float[output.Length];
            be.Download(output, scores);
            int classes = scores.Length / rows;
            for (int r = 0; r < rows; r++)
            {
                int best = 0;
                for (int c = 1; c < classes; c++)
                    if (scores[r * classes + c] > scores[r * classes + best]) best = c;
                if (best == labels[start + r]) agree++;
            }
        }
        return new SampleQualityReport(n, blank / (double)n, agree / (double)n);
    }
}
