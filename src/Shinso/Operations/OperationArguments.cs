namespace Shinso.Operations;

/// <summary>Argument checks that need no tensors, shared by the backends and the kernels (errors name the argument).</summary>
public static class OperationArguments
{
    /// <summary>Checks pooling input and output against the geometry for <paramref name="images"/> images.</summary>
    public static void Pooling(int inputLength, int outputLength, int images, in PoolingGeometry g)
    {
        g.Validate();
        if (images < 0) throw new ArgumentException($"Image count must be >= 0, got {images}.", nameof(images));
        if (inputLength != (long)images * g.InputLength)
            throw new ArgumentException($"The input has {inputLength} elements but {images} images of [{g.Channels}, {g.Height}, {g.Width}] need {(long)images * g.InputLength}.", "input");
        if (outputLength != (long)images * g.OutputLength)
            throw new ArgumentException($"The output has {outputLength} elements but {images} pooled images of [{g.Channels}, {g.OutputHeight}, {g.OutputWidth}] need {(long)images * g.OutputLength}.", "output");
    }

    /// <summary>Checks the exponent of Lp pooling.</summary>
    public static void LpExponent(float p)
    {
        if (!(p >= 1f) || !float.IsFinite(p)) throw new ArgumentException($"Lp pooling needs a finite p >= 1, got {p}.", nameof(p));
    }

    /// <summary>Checks a keep probability for dropout.</summary>
    public static void KeepProbability(float keepProbability)
    {
        if (!(keepProbability > 0f && keepProbability <= 1f))
            throw new ArgumentOutOfRangeException(nameof(keepProbability), keepProbability, "The keep probability must be in (0, 1].");
    }
}
