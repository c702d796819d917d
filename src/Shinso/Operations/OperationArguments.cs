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

    /// <summary>Checks images against a tiled convolution's column blocks; returns the number of images N.</summary>
    public static int TiledColumns(long imagesLength, string imagesName, in TiledConvolutionGeometry g, long columnsLength, string columnsName)
    {
        g.Validate();
        var c = g.Convolution;
        if (imagesLength == 0 || imagesLength % c.ImageLength != 0)
            throw new ArgumentException($"{imagesName} has {imagesLength} elements, not a positive whole number of C*H*W = {c.ImageLength} images.", imagesName);
        long n = imagesLength / c.ImageLength;
        long needed = (long)g.Tiles * c.ColumnRows * n * g.SlotsPerImage;
        if (columnsLength != needed)
            throw new ArgumentException($"{columnsName} has {columnsLength} elements but {n} image(s) need (k*k*C*KH*KW)*(N*U*V) = {needed}.", columnsName);
        return checked((int)n);
    }

    /// <summary>Checks output maps <c>[N, F, OH, OW]</c> against a tiled convolution's per-tile products; returns N.</summary>
    public static int TiledMaps(long mapsLength, string mapsName, in TiledConvolutionGeometry g, int filters, long productsLength, string productsName)
    {
        g.Validate();
        if (filters < 1) throw new ArgumentOutOfRangeException(nameof(filters), $"A tiled convolution needs at least one map, got {filters}.");
        long plane = (long)filters * g.Convolution.ColumnCount;
        if (mapsLength == 0 || mapsLength % plane != 0)
            throw new ArgumentException($"{mapsName} has {mapsLength} elements, not a positive whole number of F*OH*OW = {plane} maps.", mapsName);
        long n = mapsLength / plane;
        long needed = (long)g.Tiles * filters * n * g.SlotsPerImage;
        if (productsLength != needed)
            throw new ArgumentException($"{productsName} has {productsLength} elements but {n} image(s) need (k*k*F)*(N*U*V) = {needed}.", productsName);
        return checked((int)n);
    }

    /// <summary>Checks a tiled convolution's bias: one value per (tile, map).</summary>
    public static void TileBias(long biasLength, in TiledConvolutionGeometry g, int filters)
    {
        if (biasLength != (long)g.Tiles * filters)
            throw new ArgumentException($"bias has {biasLength} elements but {g.Tiles} tiles of {filters} maps need {(long)g.Tiles * filters}.", "bias");
    }

    /// <summary>
    /// Checks a probabilistic max-pooling over <paramref name="block"/> x block blocks of detection maps <c>[N, channels, height, width]</c>:
    /// the block must tile the maps exactly, and the pooled tensors hold <c>[N, channels, height/block, width/block]</c>; returns N.
    /// </summary>
    public static int ProbabilisticPooling(long detectionLength, long poolLength, int channels, int height, int width, int block)
    {
        if (channels < 1 || height < 1 || width < 1) throw new ArgumentException($"Detection maps [{channels}, {height}, {width}] must have positive sizes.", nameof(channels));
        if (block < 1) throw new ArgumentException($"The pooling block must be at least 1, got {block}.", nameof(block));
        if (height % block != 0 || width % block != 0)
            throw new ArgumentException($"The pooling block {block} x {block} does not divide the {height} x {width} detection maps.", nameof(block));
        long plane = (long)channels * height * width;
        if (detectionLength == 0 || detectionLength % plane != 0)
            throw new ArgumentException($"The detection units hold {detectionLength} values, not a positive whole number of [{channels}, {height}, {width}] maps.", "detection");
        long n = detectionLength / plane;
        long pooled = n * channels * (height / block) * (width / block);
        if (poolLength != pooled)
            throw new ArgumentException($"The pooling units hold {poolLength} values but {n} image(s) of [{channels}, {height / block}, {width / block}] pooled maps need {pooled}.", "pool");
        return checked((int)n);
    }
}
