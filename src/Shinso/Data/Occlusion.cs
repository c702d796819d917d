using System.Globalization;
using Shinso.Random;

namespace Shinso.Data;

/// <summary>
/// Which pixels of an image are hidden from a model that must fill them in: a half (<c>left</c>, <c>right</c>, <c>top</c>,
/// <c>bottom</c>) or a random fraction of the pixels (<c>random:F</c>, drawn per image).
/// </summary>
public sealed record Occlusion(string Region, double Fraction)
{
    /// <summary>The regions <see cref="Parse"/> accepts, for messages.</summary>
    public const string Forms = "left, right, top, bottom or random:F with 0 < F < 1";

    /// <summary>Parses <c>left|right|top|bottom|random:F</c>.</summary>
    /// <exception cref="FormatException">The text is none of those; the message lists them.</exception>
    public static Occlusion Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text is "left" or "right" or "top" or "bottom") return new Occlusion(text, 0.5);
        if (text.StartsWith("random:", StringComparison.Ordinal)
            && double.TryParse(text.AsSpan(7), NumberStyles.Float, CultureInfo.InvariantCulture, out double f) && f > 0 && f < 1)
            return new Occlusion("random", f);
        throw new FormatException($"'{text}' is not an occlusion; expected {Forms}.");
    }

    /// <summary>The text <see cref="Parse"/> reads back.</summary>
    public override string ToString() => Region == "random" ? string.Create(CultureInfo.InvariantCulture, $"random:{Fraction}") : Region;

    /// <summary>
    /// [count, height * width] of 1 (observed) and 0 (hidden). Random masks hide each pixel with probability <see cref="Fraction"/>,
    /// from <paramref name="stream"/>; the halves hide <c>floor(width / 2)</c> columns or <c>floor(height / 2)</c> rows.
    /// </summary>
    public float[] ObservedMask(int count, int height, int width, RandomStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        int pixels = height * width;
        var mask = new float[count * pixels];
        if (Region == "random")
        {
            UniformSource.Fill(stream, 0, mask);
            for (int k = 0; k < mask.Length; k++) mask[k] = mask[k] < Fraction ? 0f : 1f;
            return mask;
        }
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                bool hidden = Region switch
                {
                    "left" => x < width / 2,
                    "right" => x >= width - width / 2,
                    "top" => y < height / 2,
                    _ => y >= height - height / 2,
                };
                if (hidden) continue;
                for (int i = 0; i < count; i++) mask[i * pixels + y * width + x] = 1f;
            }
        return mask;
    }
}
