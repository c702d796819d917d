using System.Globalization;
using Shinso.Random;

namespace Shinso.Data;

/// <summary>
/// Random distortions of training images, drawn afresh for every minibatch: translations by up to <see cref="MaxShift"/>
/// pixels with zero fill (the same as padding by that much and cropping back to the size, as in Krizhevsky et al.'s
/// and He et al.'s recipes, which <see cref="CropPadding"/> names), horizontal flips, and Simard et al. 2003's elastic
/// distortions. Every draw comes from a Philox stream addressed by the training step and the row, so a run repeats
/// exactly and the images are the same whatever backend trains on them.
/// </summary>
public sealed record ImageAugmentation
{
    /// <summary>The purpose of the stream augmentation draws from, derived from the run's root.</summary>
    public const string StreamPurpose = "augmentation";

    /// <summary>Shift each image by a uniform integer in [-k, k] on each axis, filling with zeros (0: off).</summary>
    public int MaxShift { get; init; }

    /// <summary>Pad each image by p zeros on every side and crop a random window of the original size (0: off); the same distribution as <see cref="MaxShift"/> = p.</summary>
    public int CropPadding { get; init; }

    /// <summary>Mirror each image left to right with probability 1/2.</summary>
    public bool FlipHorizontal { get; init; }

    /// <summary>Elastic distortion's scale alpha in pixels (0: off): displacement fields uniform in [-1, 1], smoothed by a Gaussian of <see cref="ElasticSigma"/>, times alpha.</summary>
    public float ElasticAlpha { get; init; }

    /// <summary>Elastic distortion's smoothing deviation sigma in pixels (Simard et al.: 4 on MNIST).</summary>
    public float ElasticSigma { get; init; } = 4f;

    /// <summary>The shape of one image, [channels, height, width] or [height, width], for nets that take flat inputs; null: the net's input shape.</summary>
    public IReadOnlyList<int>? ImageShape { get; init; }

    /// <summary>Whether nothing is changed.</summary>
    public bool IsIdentity => MaxShift == 0 && CropPadding == 0 && !FlipHorizontal && ElasticAlpha == 0f;

    /// <summary>The translation range, from whichever of <see cref="MaxShift"/> and <see cref="CropPadding"/> is set.</summary>
    public int ShiftRange => Math.Max(MaxShift, CropPadding);

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is negative or not finite, or both shift and crop are given.</exception>
    public void Validate()
    {
        if (MaxShift < 0) throw new ArgumentException($"Augmentation shift must be >= 0, got {MaxShift}.");
        if (CropPadding < 0) throw new ArgumentException($"Augmentation crop padding must be >= 0, got {CropPadding}.");
        if (MaxShift > 0 && CropPadding > 0)
            throw new ArgumentException("Augmentation: give shift or crop, not both (padding by p and cropping back is a shift by up to p).");
        if (!(ElasticAlpha >= 0) || !float.IsFinite(ElasticAlpha)) throw new ArgumentException($"Elastic alpha must be >= 0 and finite, got {ElasticAlpha}.");
        if (!(ElasticSigma > 0) || !(ElasticSigma <= 100)) throw new ArgumentException($"Elastic sigma must be in (0, 100] pixels, got {ElasticSigma}.");
    }

    /// <summary>(channels, height, width) of the images: <see cref="ImageShape"/> if given, else <paramref name="inputShape"/>.</summary>
    /// <exception cref="ArgumentException">The shape is not an image's, or its size is not <paramref name="inputShape"/>'s.</exception>
    public (int Channels, int Height, int Width) Geometry(IReadOnlyList<int> inputShape)
    {
        var shape = ImageShape ?? inputShape;
        var geometry = shape.Count switch
        {
            2 => (1, shape[0], shape[1]),
            3 => (shape[0], shape[1], shape[2]),
            _ => throw new ArgumentException($"Augmentation distorts images, but the net takes inputs of shape [{string.Join(", ", inputShape)}]; " +
                                             "give the images' shape (\"image\": [height, width] or [channels, height, width])."),
        };
        long size = 1, inputs = 1;
        foreach (int d in shape) size *= d;
        foreach (int d in inputShape) inputs *= d;
        if (size != inputs || geometry.Item1 <= 0 || geometry.Item2 <= 0 || geometry.Item3 <= 0)
            throw new ArgumentException($"Augmentation image shape [{string.Join(", ", shape)}] does not hold the net's {inputs} inputs.");
        if (ShiftRange >= Math.Min(geometry.Item2, geometry.Item3))
            throw new ArgumentException($"Augmentation {(MaxShift > 0 ? "shift" : "crop")} {ShiftRange} would move {geometry.Item2}x{geometry.Item3} images off themselves; " +
                                        $"it must be below {Math.Min(geometry.Item2, geometry.Item3)}.");
        return geometry;
    }

    /// <summary>Reads the command-line form: comma-separated <c>shift:K</c>, <c>crop:P</c>, <c>flip</c>, <c>elastic:ALPHA[:SIGMA]</c>.</summary>
    /// <exception cref="FormatException">An item is not one of those; the message names it.</exception>
    public static ImageAugmentation Parse(string text)
    {
        var a = new ImageAugmentation();
        foreach (string item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = item.Split(':');
            static int Int(string s, string item) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
                : throw new FormatException($"'{item}': '{s}' is not an integer.");
            static float Float(string s, string item) => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) ? v
                : throw new FormatException($"'{item}': '{s}' is not a number.");
            a = (parts[0], parts.Length) switch
            {
                ("shift", 2) => a with { MaxShift = Int(parts[1], item) },
                ("crop", 2) => a with { CropPadding = Int(parts[1], item) },
                ("flip", 1) => a with { FlipHorizontal = true },
                ("elastic", 2) => a with { ElasticAlpha = Float(parts[1], item) },
                ("elastic", 3) => a with { ElasticAlpha = Float(parts[1], item), ElasticSigma = Float(parts[2], item) },
                _ => throw new FormatException($"'{item}' is not an augmentation; expected shift:K, crop:P, flip or elastic:ALPHA[:SIGMA]."),
            };
        }
        try { a.Validate(); }
        catch (ArgumentException x) { throw new FormatException(x.Message); }
        return a;
    }
}

/// <summary>
/// Applies an <see cref="ImageAugmentation"/> to minibatches of one image geometry, in place, with buffers reused from
/// batch to batch. Per image: elastic distortion, then the shift, then the flip.
/// </summary>
public sealed class ImageAugmenter
{
    private readonly ImageAugmentation _settings;
    private readonly int _channels, _height, _width;
    private readonly float[] _image, _dx, _dy, _blur, _kernel;

    /// <summary>Prepares to distort images of (<paramref name="channels"/>, <paramref name="height"/>, <paramref name="width"/>).</summary>
    public ImageAugmenter(ImageAugmentation settings, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        (_settings, _channels, _height, _width) = (settings, channels, height, width);
        int plane = height * width;
        _image = new float[channels * plane];
        _dx = new float[plane];
        _dy = new float[plane];
        _blur = new float[plane];
        int radius = (int)Math.Ceiling(3 * settings.ElasticSigma);
        _kernel = new float[2 * radius + 1];
        double sum = 0;
        for (int k = -radius; k <= radius; k++) sum += _kernel[k + radius] = (float)Math.Exp(-0.5 * k * k / (settings.ElasticSigma * settings.ElasticSigma));
        for (int k = 0; k < _kernel.Length; k++) _kernel[k] = (float)(_kernel[k] / sum);
    }

    /// <summary>
    /// Distorts the first <paramref name="rows"/> images of <paramref name="batch"/> in place. Row r draws words
    /// 4r .. 4r+3 of <paramref name="stream"/> (shift, flip) and its elastic field from the stream's <c>elastic</c> child,
    /// so the result depends on the stream and the row only.
    /// </summary>
    public void Apply(Span<float> batch, int rows, RandomStream stream)
    {
        int length = _channels * _height * _width;
        var elastic = stream.Derive("elastic");
        for (int r = 0; r < rows; r++)
        {
            var image = batch.Slice(r * length, length);
            ulong at = (ulong)r * 4;
            if (_settings.ElasticAlpha > 0) Elastic(image, elastic, (ulong)r * 2 * (ulong)(_height * _width));
            int range = _settings.ShiftRange;
            if (range > 0)
            {
                int dy = Draw(Philox4x32.Word(stream, at), 2 * range + 1) - range;
                int dx = Draw(Philox4x32.Word(stream, at + 1), 2 * range + 1) - range;
                Shift(image, dy, dx);
            }
            if (_settings.FlipHorizontal && (Philox4x32.Word(stream, at + 2) & 1) == 1) Flip(image);
        }
    }

    /// <summary>An integer uniform in [0, n) from one word (the bias of the modulus is below 2^-24 for image sizes).</summary>
    private static int Draw(uint word, int n) => (int)(word % (uint)n);

    /// <summary>Moves the image by (<paramref name="dy"/>, <paramref name="dx"/>) pixels: out(y, x) = in(y - dy, x - dx), zero where that is outside.</summary>
    public void Shift(Span<float> image, int dy, int dx)
    {
        if (dy == 0 && dx == 0) return;
        image.CopyTo(_image);
        image.Clear();
        for (int c = 0; c < _channels; c++)
            for (int y = Math.Max(0, dy); y < Math.Min(_height, _height + dy); y++)
            {
                int from = (c * _height + y - dy) * _width, to = (c * _height + y) * _width;
                int x0 = Math.Max(0, dx), x1 = Math.Min(_width, _width + dx);
                _image.AsSpan(from + x0 - dx, x1 - x0).CopyTo(image.Slice(to + x0, x1 - x0));
            }
    }

    /// <summary>Mirrors every row of every channel: out(y, x) = in(y, width - 1 - x).</summary>
    public void Flip(Span<float> image)
    {
        for (int row = 0; row < _channels * _height; row++) image.Slice(row * _width, _width).Reverse();
    }

    /// <summary>Simard et al.'s elastic distortion: smoothed random displacements, bilinear resampling, zero outside the image.</summary>
    private void Elastic(Span<float> image, RandomStream stream, ulong position)
    {
        int plane = _height * _width;
        Philox4x32.FillUniform(stream, position, _dx.AsSpan(0, plane));
        Philox4x32.FillUniform(stream, position + (ulong)plane, _dy.AsSpan(0, plane));
        for (int k = 0; k < plane; k++)
        {
            _dx[k] = 2 * _dx[k] - 1;
            _dy[k] = 2 * _dy[k] - 1;
        }
        Smooth(_dx);
        Smooth(_dy);
        image.CopyTo(_image);
        float alpha = _settings.ElasticAlpha;
        for (int y = 0; y < _height; y++)
            for (int x = 0; x < _width; x++)
            {
                int k = y * _width + x;
                float sy = y + alpha * _dy[k], sx = x + alpha * _dx[k];
                int y0 = (int)MathF.Floor(sy), x0 = (int)MathF.Floor(sx);
                float fy = sy - y0, fx = sx - x0;
                for (int c = 0; c < _channels; c++)
                {
                    int o = c * plane;
                    float v = (1 - fy) * ((1 - fx) * Pixel(o, y0, x0) + fx * Pixel(o, y0, x0 + 1))
                              + fy * ((1 - fx) * Pixel(o, y0 + 1, x0) + fx * Pixel(o, y0 + 1, x0 + 1));
                    image[o + k] = v;
                }
            }
    }

    private float Pixel(int offset, int y, int x) => (uint)y < (uint)_height && (uint)x < (uint)_width ? _image[offset + y * _width + x] : 0f;

    /// <summary>Separable Gaussian smoothing of a displacement field, zero beyond the border.</summary>
    private void Smooth(float[] field)
    {
        int radius = _kernel.Length / 2;
        for (int y = 0; y < _height; y++)
            for (int x = 0; x < _width; x++)
            {
                float s = 0;
                for (int k = -radius; k <= radius; k++)
                    if ((uint)(x + k) < (uint)_width) s += _kernel[k + radius] * field[y * _width + x + k];
                _blur[y * _width + x] = s;
            }
        for (int y = 0; y < _height; y++)
            for (int x = 0; x < _width; x++)
            {
                float s = 0;
                for (int k = -radius; k <= radius; k++)
                    if ((uint)(y + k) < (uint)_height) s += _kernel[k + radius] * _blur[(y + k) * _width + x];
                field[y * _width + x] = s;
            }
    }
}
