using Shinso.Random;

namespace Shinso.Data;

/// <summary>What <see cref="ImagePatches"/> does to each patch after cutting it out.</summary>
/// <param name="Size">The side N of the N x N patches.</param>
/// <param name="RemoveMean">Subtract each patch's own mean (its DC component) from it.</param>
/// <param name="UnitNorm">Scale each patch to unit L2 norm (after mean removal; patches with norm below 1e-8 are left as they are).</param>
public sealed record PatchOptions(int Size = 8, bool RemoveMean = true, bool UnitNorm = true);

/// <summary>
/// Square patches cut from image-shaped samples (<c>[H, W]</c> or <c>[C, H, W]</c>): at positions drawn from a named Philox stream,
/// or on a regular grid (for encoding whole images as features). A patch of a C-channel image is C·N² values, channel-major.
/// </summary>
public static class ImagePatches
{
    /// <summary>Patches a run draws per image at most: a small data set gives fewer, since more would mostly repeat overlapping ones.</summary>
    public const int MaxPerImage = 50;

    /// <summary>The channels, height and width of <paramref name="dataset"/>'s samples.</summary>
    /// <exception cref="ArgumentException">The samples are not images, or the patch is larger than they are.</exception>
    public static (int Channels, int Height, int Width) Geometry(Dataset dataset, int size)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var shape = dataset.SampleShape;
        (int c, int h, int w) = shape.Count switch
        {
            2 => (1, shape[0], shape[1]),
            3 => (shape[0], shape[1], shape[2]),
            _ => throw new ArgumentException($"Patches need image samples shaped [height, width] or [channels, height, width]; these are [{string.Join(", ", shape)}].", nameof(dataset)),
        };
        if (size < 1) throw new ArgumentException($"The patch size must be at least 1 pixel, got {size}.", nameof(size));
        if (size > h || size > w) throw new ArgumentException($"A {size} x {size} patch does not fit in {h} x {w} images.", nameof(size));
        return (c, h, w);
    }

    /// <summary><paramref name="count"/> patches at random images and positions (uniform, from <paramref name="stream"/>), [count, C·N²].</summary>
    /// <exception cref="ArgumentException">The dataset is empty or not images, or the patch does not fit.</exception>
    public static float[] Sample(Dataset dataset, PatchOptions options, int count, RandomStream stream)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (c, h, w) = Geometry(dataset, options.Size);
        if (dataset.Count == 0) throw new ArgumentException("The dataset has no images to cut patches from.", nameof(dataset));
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int n = options.Size, length = c * n * n;
        var patches = new float[(long)count * length];
        for (int p = 0; p < count; p++)
        {
            int image = Below(stream, 3UL * (ulong)p, dataset.Count);
            int row = Below(stream, 3UL * (ulong)p + 1, h - n + 1);
            int column = Below(stream, 3UL * (ulong)p + 2, w - n + 1);
            Cut(dataset.Sample(image), c, h, w, n, row, column, patches.AsSpan(p * length, length));
            Prepare(patches.AsSpan(p * length, length), options);
        }
        return patches;
    }

    /// <summary>
    /// The patches of one image on a grid with the given <paramref name="stride"/> (top-left first, row by row), prepared as
    /// <paramref name="options"/> says, into <paramref name="destination"/> ([positions, C·N²]); returns the grid's rows and columns.
    /// </summary>
    public static (int Rows, int Columns) Grid(ReadOnlySpan<float> image, int channels, int height, int width, PatchOptions options, int stride,
        Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        int n = options.Size, length = channels * n * n;
        int rows = (height - n) / stride + 1, columns = (width - n) / stride + 1;
        if (destination.Length != rows * columns * length)
            throw new ArgumentException($"destination has {destination.Length} values, not {rows * columns} patches of {length}.", nameof(destination));
        for (int gr = 0; gr < rows; gr++)
            for (int gc = 0; gc < columns; gc++)
            {
                var patch = destination.Slice((gr * columns + gc) * length, length);
                Cut(image, channels, height, width, n, gr * stride, gc * stride, patch);
                Prepare(patch, options);
            }
        return (rows, columns);
    }

    /// <summary>The grid <see cref="Grid"/> lays over an image.</summary>
    public static (int Rows, int Columns) GridSize(int height, int width, int size, int stride) => ((height - size) / stride + 1, (width - size) / stride + 1);

    private static void Cut(ReadOnlySpan<float> image, int channels, int height, int width, int n, int row, int column, Span<float> patch)
    {
        for (int ch = 0; ch < channels; ch++)
            for (int i = 0; i < n; i++)
                image.Slice(ch * height * width + (row + i) * width + column, n).CopyTo(patch.Slice((ch * n + i) * n, n));
    }

    /// <summary>Mean removal and unit norm as <paramref name="options"/> asks, in place.</summary>
    public static void Prepare(Span<float> patch, PatchOptions options)
    {
        if (options.RemoveMean)
        {
            double mean = 0;
            foreach (float v in patch) mean += v;
            mean /= patch.Length;
            for (int j = 0; j < patch.Length; j++) patch[j] = (float)(patch[j] - mean);
        }
        if (options.UnitNorm)
        {
            double squares = 0;
            foreach (float v in patch) squares += (double)v * v;
            double norm = Math.Sqrt(squares);
            if (norm >= 1e-8)
                for (int j = 0; j < patch.Length; j++) patch[j] = (float)(patch[j] / norm);
        }
    }

    /// <summary>A whole number in [0, bound) from word <paramref name="position"/> of the stream (Lemire's multiply-shift; the bias is below bound/2³²).</summary>
    private static int Below(RandomStream stream, ulong position, int bound) => (int)((Philox4x32.Word(stream, position) * (ulong)bound) >> 32);
}
