using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.IO;

namespace Shinso.Models.Boltzmann;

/// <summary>
/// How pixel data are put on the scale of Gaussian visible units with unit variance: each pixel's training mean is subtracted
/// and every pixel is divided by one scale, the standard deviation of all centred training values.
/// </summary>
/// <remarks>
/// One shared scale, not one per pixel: near-constant border pixels have standard deviations near zero, and dividing by them
/// turns a faint stroke into a value of hundreds of sigmas, which a unit-variance Gaussian RBM cannot model.
/// </remarks>
public sealed record VisibleCentering(float[] Mean, float Scale)
{
    /// <summary>The model-file metadata key this is stored under.</summary>
    public const string MetadataKey = "visible_centering";

    /// <summary>Fits the centring to <paramref name="train"/>.</summary>
    public static VisibleCentering Fit(Dataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        int n = train.Count, d = train.FeatureCount;
        if (n == 0) throw new ArgumentException("No training samples to fit the centring to.", nameof(train));
        var sums = new double[d];
        var x = train.Features;
        for (int s = 0; s < n; s++)
            for (int i = 0; i < d; i++) sums[i] += x[s * d + i];
        var mean = new float[d];
        for (int i = 0; i < d; i++) mean[i] = (float)(sums[i] / n);
        double squares = 0;
        for (int s = 0; s < n; s++)
            for (int i = 0; i < d; i++)
            {
                double c = x[s * d + i] - mean[i];
                squares += c * c;
            }
        return new VisibleCentering(mean, (float)Math.Max(1e-3, Math.Sqrt(squares / ((double)n * d))));
    }

    /// <summary>A copy of <paramref name="data"/> centred and scaled.</summary>
    public Dataset Apply(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureCount != Mean.Length)
            throw new ArgumentException($"The data have {data.FeatureCount} features; the centring was fitted to {Mean.Length}.", nameof(data));
        var features = (float[])data.Features.Clone();
        int d = Mean.Length;
        for (int k = 0; k < features.Length; k++) features[k] = (features[k] - Mean[k % d]) / Scale;
        return data.WithFeatures(features);
    }

    /// <summary>Back to pixel values, in place: <c>x = x * scale + mean</c>.</summary>
    public void Invert(Span<float> values)
    {
        int d = Mean.Length;
        for (int k = 0; k < values.Length; k++) values[k] = values[k] * Scale + Mean[k % d];
    }

    /// <summary>The metadata entry.</summary>
    public JsonObject ToJson() => new() { ["mean"] = new JsonArray(Mean.Select(m => (JsonNode)JsonValue.Create(m)).ToArray()), ["scale"] = Scale };

    /// <summary>Reads the entry of a model file's metadata, or null when the file has none.</summary>
    /// <exception cref="ModelFileException">The entry is malformed; the message names the field and what was expected.</exception>
    public static VisibleCentering? FromMetadata(JsonObject metadata, string path, int visibleCount)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (!metadata.TryGetPropertyValue(MetadataKey, out var node) || node is null) return null;
        string field = "metadata." + MetadataKey;
        if (node is not JsonObject o) throw new ModelFileException(path, field, "expected an object with 'mean' and 'scale'.");
        if (o["mean"] is not JsonArray means || means.Count != visibleCount)
            throw new ModelFileException(path, field + ".mean", $"expected an array of {visibleCount} numbers, one per visible unit.");
        var mean = new float[visibleCount];
        for (int i = 0; i < visibleCount; i++)
        {
            if (means[i] is not JsonValue v || !v.TryGetValue(out float m) || !float.IsFinite(m))
                throw new ModelFileException(path, $"{field}.mean[{i}]", "expected a finite number.");
            mean[i] = m;
        }
        if (o["scale"] is not JsonValue sv || !sv.TryGetValue(out float scale) || !(scale > 0) || !float.IsFinite(scale))
            throw new ModelFileException(path, field + ".scale", "expected a positive finite number.");
        return new VisibleCentering(mean, scale);
    }
}
