using System.Diagnostics;
using System.Globalization;
using Shinso.Backends;
using Shinso.Data;
using Shinso.Models.ComponentAnalysis;
using Shinso.Random;

namespace Shinso.Models.Topographic;

/// <summary>A TICA or RICA preset: the patches, whether they are whitened, and the filters' training.</summary>
/// <param name="Patches">Patch size and preparation.</param>
/// <param name="PatchCount">Random training patches (at most <see cref="ImagePatches.MaxPerImage"/> per training image).</param>
/// <param name="Whiten">ZCA-whiten the patches (fitted on the training patches) first.</param>
/// <param name="Training">The torus, the pooling, the reconstruction weight (0 for TICA) and the steps.</param>
public sealed record TicaPreset(PatchOptions Patches, int PatchCount, bool Whiten, TopographicIcaOptions Training);

/// <summary>The TICA and RICA presets.</summary>
public static class TicaPresets
{
    /// <summary>The presets.</summary>
    public static IReadOnlyList<string> Names { get; } = ["tica", "rica"];

    /// <summary>The preset <paramref name="name"/>, or null for another name.</summary>
    public static TicaPreset? Find(string name) => name switch
    {
        // Hyvärinen & Hoyer's setting, scaled to 8x8 patches: whitened centred patches (63 dimensions once each patch's mean is
        // gone), 49 filters on a 7x7 torus, 3x3 pools. Rate 0.1 for 20 epochs: the lowest validation objective of 0.05, 0.1 and 0.2.
        "tica" => new TicaPreset(new PatchOptions(8, RemoveMean: true, UnitNorm: false), 50_000, true,
            new TopographicIcaOptions { Side = 7, Neighbourhood = 3, Epsilon = 1e-2f, LearningRate = 0.1f, Epochs = 20, BatchRows = 1000 }),
        // RICA: a 4x overcomplete bank (256 filters on a 16x16 torus) on centred unit-norm patches, not whitened. Weight 20 of 20 and
        // 100 on the validation split: 12 % of the patches left unreconstructed but a clearer topography (100: 0.6 %, weaker order).
        "rica" => new TicaPreset(new PatchOptions(8), 50_000, false,
            new TopographicIcaOptions { Side = 16, Neighbourhood = 3, Epsilon = 1e-2f, Reconstruction = 20f, LearningRate = 0.005f, Epochs = 10, BatchRows = 1000 }),
        _ => null,
    };
}

/// <summary>A learned TICA or RICA bank with the preparation of its patches.</summary>
/// <param name="Bank">The filters.</param>
/// <param name="Channels">Image channels.</param>
/// <param name="Patches">Patch size and preparation.</param>
/// <param name="Whitening">The ZCA whitening applied to the patches first, or null.</param>
public sealed record TicaModel(TopographicIca Bank, int Channels, PatchOptions Patches, ZcaWhitening? Whitening)
{
    /// <summary>
    /// The filters as they act on prepared, unwhitened patches, [K, features]: <c>w_k W_zca</c> (ZCA's matrix is symmetric), what a
    /// picture of the filters should show; the filters themselves without whitening.
    /// </summary>
    public float[] PixelFilters()
    {
        if (Whitening is null) return Bank.Filters;
        int k = Bank.FilterCount, f = Bank.FeatureCount;
        var result = new float[k * f];
        for (int a = 0; a < k; a++)
            for (int j = 0; j < f; j++)
            {
                double sum = 0;
                for (int i = 0; i < f; i++) sum += (double)Bank.Filters[a * f + i] * Whitening.Matrix[i * f + j];
                result[a * f + j] = (float)sum;
            }
        return result;
    }

    /// <summary><paramref name="count"/> random patches of <paramref name="images"/> prepared as this model's were.</summary>
    public float[] SamplePatches(IBackend backend, Dataset images, int count, RandomStream stream)
    {
        var (c, _, _) = ImagePatches.Geometry(images, Patches.Size);
        if (c != Channels) throw new ArgumentException($"The model reads {Channels}-channel patches but the images have {c} channels.", nameof(images));
        var patches = ImagePatches.Sample(images, Patches, count, stream);
        Whitening?.Apply(backend, patches);
        return patches;
    }
}

/// <summary>What a TICA or RICA run measured.</summary>
public sealed record TicaResult(TicaModel Model, IReadOnlyList<TicaEpoch> Epochs, double TestObjective, double Seconds, double NeighbourCorrelation, double DistantCorrelation,
    double RelativeReconstructionError);

/// <summary>Runs a <see cref="TicaPreset"/>: patches, whitening, training, and the topography's measure.</summary>
public static class TicaRun
{
    /// <summary>Learns the bank of <paramref name="preset"/> from <paramref name="train"/> and measures it on <paramref name="test"/>.</summary>
    /// <exception cref="ArgumentException">The images are not image-shaped, the patch does not fit, or a setting is out of range.</exception>
    public static TicaResult Run(TicaPreset preset, IBackend backend, Dataset train, Dataset test, ulong seed, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(preset);
        var (channels, _, _) = ImagePatches.Geometry(train, preset.Patches.Size);
        int features = channels * preset.Patches.Size * preset.Patches.Size;
        var options = preset.Training with { Seed = seed };
        options.Validate(features);
        var root = RandomStream.Root(seed).Derive("tica-run");
        int count = (int)Math.Min(preset.PatchCount, (long)ImagePatches.MaxPerImage * train.Count);
        var patches = ImagePatches.Sample(train, preset.Patches, count, root.Derive("train-patches"));
        ZcaWhitening? whitening = null;
        if (preset.Whiten)
        {
            whitening = ZcaWhitening.Fit(backend, patches, features);
            // Whitened data spans only the directions with variance: TICA's orthonormal bank may not have more filters than those.
            options.Validate(whitening.Rank);
            whitening.Apply(backend, patches);
        }
        var clock = Stopwatch.StartNew();
        var (filters, epochs) = TopographicIca.Train(backend, patches, features, options, e => progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"epoch {e.Epoch + 1}/{options.Epochs}: mean objective {e.MeanObjective:F4}{(double.IsNaN(e.Orthonormality) ? "" : $", |W Wᵀ - I| {e.Orthonormality:0.0e+0}")}, {e.Seconds:F1} s")));
        double seconds = clock.Elapsed.TotalSeconds;
        var model = new TicaModel(filters, channels, preset.Patches, whitening);
        var testPatches = model.SamplePatches(backend, test, (int)Math.Min(count, (long)ImagePatches.MaxPerImage * Math.Max(1, test.Count)), root.Derive("test-patches"));
        double testObjective = filters.MeanObjective(backend, testPatches);
        var (near, far) = EnergyCorrelations(filters, testPatches);
        double reconstruction = filters.RelativeReconstructionError(testPatches);
        progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"{filters.FilterCount} filters in {seconds:F1} s; test objective {testObjective:F4}; correlation of squared responses: neighbours {near:F3}, " +
            $"distant filters {far:F3}; relative reconstruction error {reconstruction:F4}"));
        return new TicaResult(model, epochs, testObjective, seconds, near, far, reconstruction);
    }

    /// <summary>
    /// The mean correlation of squared responses <c>(w_j·x)²</c> between torus neighbours (distance 1) and between each filter and the
    /// filter diagonally opposite on the torus (half a side away in both directions): topographic order shows as neighbours' energies
    /// correlating more than distant ones'.
    /// </summary>
    public static (double Neighbours, double Distant) EnergyCorrelations(TopographicIca filters, ReadOnlySpan<float> patches)
    {
        int k = filters.FilterCount, f = filters.FeatureCount, n = Math.Min(patches.Length / f, 20_000), side = filters.Side;
        var energy = new double[n * k];
        for (int r = 0; r < n; r++)
            for (int a = 0; a < k; a++)
            {
                double z = 0;
                for (int j = 0; j < f; j++) z += (double)filters.Filters[a * f + j] * patches[r * f + j];
                energy[r * k + a] = z * z;
            }
        var mean = new double[k];
        var sd = new double[k];
        for (int a = 0; a < k; a++)
        {
            for (int r = 0; r < n; r++) mean[a] += energy[r * k + a];
            mean[a] /= n;
            for (int r = 0; r < n; r++) sd[a] += (energy[r * k + a] - mean[a]) * (energy[r * k + a] - mean[a]);
            sd[a] = Math.Sqrt(sd[a] / n);
        }
        double Correlation(int a, int b)
        {
            if (sd[a] == 0 || sd[b] == 0) return 0;
            double c = 0;
            for (int r = 0; r < n; r++) c += (energy[r * k + a] - mean[a]) * (energy[r * k + b] - mean[b]);
            return c / n / (sd[a] * sd[b]);
        }
        double near = 0, far = 0;
        int nearCount = 0, farCount = 0;
        for (int a = 0; a < k; a++)
        {
            int ra = a / side, ca = a % side;
            near += Correlation(a, ra * side + (ca + 1) % side) + Correlation(a, (ra + 1) % side * side + ca);
            nearCount += 2;
            int rb = (ra + side / 2) % side, cb = (ca + side / 2) % side;
            far += Correlation(a, rb * side + cb);
            farCount++;
        }
        return (near / nearCount, far / farCount);
    }
}
