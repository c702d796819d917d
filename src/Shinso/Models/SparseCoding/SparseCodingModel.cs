using Shinso.Backends;
using Shinso.Data;
using Shinso.Models.ComponentAnalysis;

namespace Shinso.Models.SparseCoding;

/// <summary>
/// A learned sparse-coding dictionary and how its patches are prepared: N x N patches of C-channel images, mean removal and unit norm
/// (<see cref="PatchOptions"/>), optional ZCA whitening, and the λ of the codes <c>argmin_h ½‖x − Dᵀh‖² + λ‖h‖₁</c>.
/// </summary>
public sealed class SparseCodingModel
{
    /// <summary>Builds a model from its parts.</summary>
    /// <exception cref="ArgumentException">The dictionary does not hold whole atoms of C·N² values, λ is not positive, or the whitening is for another length.</exception>
    public SparseCodingModel(float[] dictionary, int channels, PatchOptions patches, float lambda, ZcaWhitening? whitening = null)
    {
        ArgumentNullException.ThrowIfNull(dictionary);
        ArgumentNullException.ThrowIfNull(patches);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(patches.Size);
        if (!(lambda > 0) || !float.IsFinite(lambda)) throw new ArgumentException($"lambda must be a positive number, got {lambda}.", nameof(lambda));
        int features = channels * patches.Size * patches.Size;
        if (dictionary.Length == 0 || dictionary.Length % features != 0)
            throw new ArgumentException($"{dictionary.Length} dictionary values are not whole atoms of {features} ({channels} x {patches.Size} x {patches.Size}).", nameof(dictionary));
        if (whitening is not null && whitening.FeatureCount != features)
            throw new ArgumentException($"The whitening is for {whitening.FeatureCount} values, the patches have {features}.", nameof(whitening));
        Dictionary = dictionary;
        Channels = channels;
        Patches = patches;
        Lambda = lambda;
        Whitening = whitening;
        FeatureCount = features;
        AtomCount = dictionary.Length / features;
    }

    /// <summary>The atoms, row-major [atoms, features], each of norm at most 1.</summary>
    public float[] Dictionary { get; }

    /// <summary>Atoms in the dictionary.</summary>
    public int AtomCount { get; }

    /// <summary>Values per patch, C·N².</summary>
    public int FeatureCount { get; }

    /// <summary>Image channels.</summary>
    public int Channels { get; }

    /// <summary>Patch size and preparation.</summary>
    public PatchOptions Patches { get; }

    /// <summary>The L1 weight of the codes.</summary>
    public float Lambda { get; }

    /// <summary>The ZCA whitening applied after mean removal and scaling, or null.</summary>
    public ZcaWhitening? Whitening { get; }

    /// <summary><paramref name="count"/> random patches of <paramref name="images"/>, prepared (and whitened) as this model prepares its own.</summary>
    public float[] SamplePatches(IBackend backend, Dataset images, int count, Random.RandomStream stream)
    {
        CheckImages(images);
        var patches = ImagePatches.Sample(images, Patches, count, stream);
        Whitening?.Apply(backend, patches);
        return patches;
    }

    /// <summary>The lasso codes of prepared <paramref name="patches"/> (rows of <see cref="FeatureCount"/> values).</summary>
    public SparseCodes Encode(IBackend backend, ReadOnlySpan<float> patches, FistaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var atoms = backend.Allocate(AtomCount, FeatureCount);
        backend.Upload(Dictionary, atoms);
        return FistaEncoder.Encode(backend, patches, FeatureCount, atoms, (options ?? new FistaOptions()) with { Lambda = Lambda });
    }

    /// <summary>
    /// Image features from the codes (Coates &amp; Ng 2011's single-layer pipeline with sparse codes): every patch on a grid with
    /// <paramref name="stride"/> is coded, and the absolute codes are summed over a <paramref name="pool"/> x <paramref name="pool"/>
    /// split of the grid, giving <c>pool² · atoms</c> values per image, pooling cell by cell; with <paramref name="splitSigns"/> the
    /// positive and negative parts <c>max(0, h)</c> and <c>max(0, −h)</c> are pooled apart (Coates &amp; Ng's polarity split), twice as many.
    /// </summary>
    /// <exception cref="ArgumentException">The images do not fit the model, or the pooling grid is finer than the patch grid.</exception>
    /// <param name="backend">Where the codes are computed.</param>
    /// <param name="images">The images, shaped as the model's patches need.</param>
    /// <param name="stride">The step of the patch grid.</param>
    /// <param name="pool">The pooling split of the grid per side.</param>
    /// <param name="options">The encoder's settings (its λ is the model's); null for the defaults.</param>
    /// <param name="imagesPerBlock">Images whose patches are coded together.</param>
    /// <param name="splitSigns">Pool the positive and negative parts of the codes apart.</param>
    public float[] ImageFeatures(IBackend backend, Dataset images, int stride, int pool, FistaOptions? options = null, bool splitSigns = false, int imagesPerBlock = 64)
    {
        var (c, h, w) = CheckImages(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pool, 1);
        var (gridRows, gridColumns) = ImagePatches.GridSize(h, w, Patches.Size, stride);
        if (pool > gridRows || pool > gridColumns)
            throw new ArgumentException($"A {pool} x {pool} pooling does not fit the {gridRows} x {gridColumns} grid of patches.", nameof(pool));
        int positions = gridRows * gridColumns, k = AtomCount, width = FeatureWidth(pool, splitSigns);
        var features = new float[(long)images.Count * width];
        var block = new float[(long)imagesPerBlock * positions * FeatureCount];
        var atoms = backend.Allocate(k, FeatureCount);
        backend.Upload(Dictionary, atoms);
        options = (options ?? new FistaOptions()) with { Lambda = Lambda };
        var coded = new int[imagesPerBlock * positions];
        var workspace = new Workspace(backend);
        for (int start = 0; start < images.Count; start += imagesPerBlock)
        {
            int count = Math.Min(imagesPerBlock, images.Count - start);
            for (int i = 0; i < count; i++)
                ImagePatches.Grid(images.Sample(start + i), c, h, w, Patches, stride, block.AsSpan(i * positions * FeatureCount, positions * FeatureCount));
            var patches = block.AsSpan(0, count * positions * FeatureCount);
            Whitening?.Apply(backend, patches);
            // A blank patch (all zero after its preparation, as a uniform background is without whitening, which would shift it by the
            // mean) has all-zero codes: only the others are coded.
            int kept = 0;
            for (int q = 0; q < count * positions; q++)
            {
                var patch = block.AsSpan(q * FeatureCount, FeatureCount);
                if (patch.IndexOfAnyExcept(0f) < 0) { coded[q] = -1; continue; }
                if (kept != q) patch.CopyTo(block.AsSpan(kept * FeatureCount, FeatureCount));
                coded[q] = kept++;
            }
            var codes = FistaEncoder.Encode(backend, block.AsSpan(0, kept * FeatureCount), FeatureCount, atoms, options, workspace: workspace).Codes;
            for (int i = 0; i < count; i++)
            {
                var row = features.AsSpan((start + i) * width, width);
                for (int gr = 0; gr < gridRows; gr++)
                    for (int gc = 0; gc < gridColumns; gc++)
                    {
                        int cell = gr * pool / gridRows * pool + gc * pool / gridColumns;
                        int q = coded[i * positions + gr * gridColumns + gc];
                        if (q < 0) continue;
                        var code = codes.AsSpan(q * k, k);
                        if (splitSigns)
                        {
                            var positive = row.Slice(2 * cell * k, k);
                            var negative = row.Slice((2 * cell + 1) * k, k);
                            for (int a = 0; a < k; a++)
                            {
                                if (code[a] > 0) positive[a] += code[a];
                                else negative[a] -= code[a];
                            }
                        }
                        else
                        {
                            var target = row.Slice(cell * k, k);
                            for (int a = 0; a < k; a++) target[a] += Math.Abs(code[a]);
                        }
                    }
            }
        }
        return features;
    }

    /// <summary>Values per image of <see cref="ImageFeatures"/>.</summary>
    public int FeatureWidth(int pool, bool splitSigns) => pool * pool * AtomCount * (splitSigns ? 2 : 1);

    private (int Channels, int Height, int Width) CheckImages(Dataset images)
    {
        var (c, h, w) = ImagePatches.Geometry(images, Patches.Size);
        if (c != Channels) throw new ArgumentException($"The model codes {Channels}-channel patches but the images have {c} channels.", nameof(images));
        return (c, h, w);
    }
}
