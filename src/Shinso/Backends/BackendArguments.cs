using Shinso.Tensors;
using Shinso.Operations;

namespace Shinso.Backends;

/// <summary>
/// The argument checks every backend applies before it launches a kernel, shared so that a shape
/// mistake reads the same on the CPU and on a device.
/// </summary>
public static class BackendArguments
{
    /// <summary>Throws unless the two lengths are equal.</summary>
    public static void SameLength(int a, int b, string nameA, string nameB)
    {
        if (a != b) throw new ArgumentException($"{nameA} has {a} elements but {nameB} has {b}.", nameB);
    }

    /// <summary>Throws unless the two tensors have the same number of elements.</summary>
    public static void SameLength(Tensor a, Tensor b, string nameA, string nameB) => SameLength(a.Length, b.Length, nameA, nameB);

    /// <summary>Throws unless the two tensors read as matrices of the same rows and columns.</summary>
    public static void SameShape(Tensor a, Tensor b, string nameA, string nameB)
    {
        if (a.Rows != b.Rows || a.Columns != b.Columns)
            throw new ArgumentException($"{nameA} has shape {Tensor.ShapeText(a.Shape)} but {nameB} has {Tensor.ShapeText(b.Shape)}.", nameB);
    }

    /// <summary>Throws unless both tensors are matrices of the same shape: the rows of a one-hot draw, each a distribution.</summary>
    public static void OneHotRows(Tensor probabilities, Tensor samples)
    {
        if (probabilities.Rank != 2 || samples.Rank != 2)
            throw new ArgumentException($"One-hot rows need matrices [N, C]; probabilities has shape {Tensor.ShapeText(probabilities.Shape)}, samples {Tensor.ShapeText(samples.Shape)}.",
                probabilities.Rank != 2 ? nameof(probabilities) : nameof(samples));
        SameShape(probabilities, samples, nameof(probabilities), nameof(samples));
    }

    /// <summary>The sizes (m, n, k) of <c>C = op(A) op(B)</c>, after checking that the shapes agree.</summary>
    public static (int M, int N, int K) Gemm(Transpose transA, Transpose transB, Tensor a, Tensor b, Tensor c)
    {
        int m = transA == Transpose.None ? a.Rows : a.Columns;
        int k = transA == Transpose.None ? a.Columns : a.Rows;
        int kb = transB == Transpose.None ? b.Rows : b.Columns;
        int n = transB == Transpose.None ? b.Columns : b.Rows;
        if (k != kb)
            throw new ArgumentException(
                $"op(a) is {m} x {k} but op(b) is {kb} x {n}: inner dimensions differ (a {Tensor.ShapeText(a.Shape)}, b {Tensor.ShapeText(b.Shape)}).", nameof(b));
        if (c.Rows != m || c.Columns != n)
            throw new ArgumentException($"c has shape {Tensor.ShapeText(c.Shape)} but op(a)*op(b) is {m} x {n}.", nameof(c));
        return (m, n, k);
    }

    /// <summary>Checks that <paramref name="panels"/> has <see cref="ColumnPanels.Shape"/> for a B of <paramref name="k"/> x <paramref name="n"/>.</summary>
    public static void ColumnPanelsOf(int k, int n, Tensor panels)
    {
        var shape = ColumnPanels.Shape(k, n);
        if (!panels.Shape.SequenceEqual(shape))
            throw new ArgumentException($"panels has shape {Tensor.ShapeText(panels.Shape)} but a {k} x {n} matrix in column panels is {Tensor.ShapeText(shape)}.", nameof(panels));
    }

    /// <summary>The sizes (rows, N, K) of <c>y = x B + bias</c> with B in column panels, after checking that the shapes agree.</summary>
    public static (int Rows, int N, int K) AffineColumnPanels(Tensor x, Tensor panels, Tensor bias, Tensor y)
    {
        if (x.Rank != 2 || y.Rank != 2 || x.Rows != y.Rows)
            throw new ArgumentException($"x and y must be matrices of the same rows; x has shape {Tensor.ShapeText(x.Shape)}, y {Tensor.ShapeText(y.Shape)}.", nameof(y));
        ColumnPanelsOf(x.Columns, y.Columns, panels);
        RowVector(y, bias, nameof(bias));
        return (x.Rows, y.Columns, x.Columns);
    }

    /// <summary>Checks a row vector against a matrix's columns.</summary>
    public static void RowVector(Tensor matrix, Tensor row, string rowName)
    {
        if (row.Length != matrix.Columns)
            throw new ArgumentException($"{rowName} has {row.Length} elements but the matrix {Tensor.ShapeText(matrix.Shape)} has {matrix.Columns} columns.", rowName);
    }

    /// <summary>Checks a per-row result against a matrix's rows.</summary>
    public static void PerRow(Tensor matrix, Tensor result, string matrixName)
    {
        if (result.Length != matrix.Rows)
            throw new ArgumentException($"result has {result.Length} elements but {matrixName} {Tensor.ShapeText(matrix.Shape)} has {matrix.Rows} rows.", "result");
    }

    /// <summary>Checks a vector holding one value per row of <paramref name="matrix"/> (a per-row state such as a momentum).</summary>
    public static void OnePerRow(Tensor matrix, Tensor vector, string matrixName, string vectorName)
    {
        if (vector.Length != matrix.Rows)
            throw new ArgumentException($"{vectorName} has {vector.Length} elements but {matrixName} {Tensor.ShapeText(matrix.Shape)} has {matrix.Rows} rows.", vectorName);
    }

    /// <summary>
    /// Checks the operands of the sparse-coding passes: the iterate <paramref name="current"/>, the other iterate (the previous one or
    /// the candidate, named <paramref name="otherName"/>), their products and the correlations share one shape, and the per-row vectors
    /// hold one value per row.
    /// </summary>
    public static void SparseCoding(Tensor current, Tensor other, string otherName, Tensor product, Tensor otherProduct, Tensor correlation,
        Tensor momentum, Tensor? objective = null, Tensor? t = null)
    {
        SameShape(current, other, "current", otherName);
        SameShape(current, product, "current", "product");
        SameShape(current, otherProduct, "current", otherName + "Product");
        SameShape(current, correlation, "current", "correlation");
        OnePerRow(current, momentum, "current", "momentum");
        if (objective is not null) OnePerRow(current, objective, "current", "objective");
        if (t is not null) OnePerRow(current, t, "current", "t");
    }

    /// <summary>Checks the operands of <see cref="ISparseCoding.ExtrapolatedResidual"/>: four matrices of one shape and a momentum per row.</summary>
    public static void FactoredResidual(Tensor reconstruction, Tensor previousReconstruction, Tensor data, Tensor momentum, Tensor residual)
    {
        SameShape(reconstruction, previousReconstruction, "reconstruction", "previousReconstruction");
        SameShape(reconstruction, data, "reconstruction", "data");
        SameShape(reconstruction, residual, "reconstruction", "residual");
        OnePerRow(reconstruction, momentum, "reconstruction", "momentum");
    }

    /// <summary>Checks the operands of <see cref="ISparseCoding.AcceptReconstruction"/>: codes [rows, atoms], reconstructions and data [rows, features].</summary>
    public static void FactoredAcceptance(Tensor candidate, Tensor candidateReconstruction, Tensor current, Tensor reconstruction, Tensor data,
        Tensor objective, Tensor t, Tensor momentum)
    {
        SameShape(current, candidate, "current", "candidate");
        SameShape(data, reconstruction, "data", "reconstruction");
        SameShape(data, candidateReconstruction, "data", "candidateReconstruction");
        if (data.Rows != current.Rows)
            throw new ArgumentException($"data has {data.Rows} rows but the codes have {current.Rows}.", "data");
        OnePerRow(current, objective, "current", "objective");
        OnePerRow(current, t, "current", "t");
        OnePerRow(current, momentum, "current", "momentum");
    }

    /// <summary>The number of images, after checking images and columns against the geometry.</summary>
    public static int Convolution(Tensor images, ConvolutionGeometry g, Tensor columns)
    {
        g.Validate();
        int n = images.Rows;
        if (images.Columns != g.ImageLength)
            throw new ArgumentException($"images {Tensor.ShapeText(images.Shape)} do not hold [N, {g.Channels}, {g.Height}, {g.Width}] images.", nameof(images));
        long needed = (long)n * g.ColumnRows * g.ColumnCount;
        if (columns.Length != needed)
            throw new ArgumentException(
                $"columns has {columns.Length} elements but {n} images unfold to [{g.ColumnRows}, {n} * {g.ColumnCount}] = {needed}.", nameof(columns));
        return n;
    }

    /// <summary>
    /// Checks a convolution layer's tensors: input <c>[N, C, H, W]</c>, weight <c>[F, C*KH*KW]</c>, bias <c>[F]</c> and
    /// output (or its gradient) <c>[N, F, OH, OW]</c>; returns N and F.
    /// </summary>
    public static (int Images, int Filters) ConvolutionLayer(Tensor input, ConvolutionGeometry g, Tensor weight, Tensor bias,
        Tensor output, string outputName, string biasName = "bias")
    {
        g.Validate();
        int n = input.Rows;
        if (n < 1 || input.Columns != g.ImageLength)
            throw new ArgumentException($"input {Tensor.ShapeText(input.Shape)} does not hold [N, {g.Channels}, {g.Height}, {g.Width}] images.", nameof(input));
        int f = weight.Rows;
        if (f < 1 || weight.Columns != g.ColumnRows)
            throw new ArgumentException($"weight {Tensor.ShapeText(weight.Shape)} is not [F, C*KH*KW = {g.ColumnRows}].", nameof(weight));
        if (bias.Length != f)
            throw new ArgumentException($"{biasName} has {bias.Length} elements but there are {f} filters.", biasName);
        if (output.Rows != n || output.Columns != (long)f * g.ColumnCount)
            throw new ArgumentException(
                $"{outputName} {Tensor.ShapeText(output.Shape)} is not [{n}, {f}, {g.OutputHeight}, {g.OutputWidth}].", outputName);
        return (n, f);
    }

    /// <summary>
    /// Checks an input-gradient pass's tensors: output gradient <c>[N, F, OH, OW]</c>, weight <c>[F, C*KH*KW]</c> and input
    /// gradient <c>[N, C, H, W]</c>; returns N and F.
    /// </summary>
    public static (int Images, int Filters) ConvolutionInputGradient(Tensor outputGradient, ConvolutionGeometry g, Tensor weight, Tensor inputGradient)
    {
        g.Validate();
        int n = inputGradient.Rows;
        if (n < 1 || inputGradient.Columns != g.ImageLength)
            throw new ArgumentException($"inputGradient {Tensor.ShapeText(inputGradient.Shape)} does not hold [N, {g.Channels}, {g.Height}, {g.Width}] images.", nameof(inputGradient));
        int f = weight.Rows;
        if (f < 1 || weight.Columns != g.ColumnRows)
            throw new ArgumentException($"weight {Tensor.ShapeText(weight.Shape)} is not [F, C*KH*KW = {g.ColumnRows}].", nameof(weight));
        if (outputGradient.Rows != n || outputGradient.Columns != (long)f * g.ColumnCount)
            throw new ArgumentException(
                $"outputGradient {Tensor.ShapeText(outputGradient.Shape)} is not [{n}, {f}, {g.OutputHeight}, {g.OutputWidth}].", nameof(outputGradient));
        return (n, f);
    }

    /// <summary>Checks <c>output = input</c> with its two leading axes swapped; returns (outer, inner, rest) of the input.</summary>
    public static (int Outer, int Inner, int Trailing) SwapLeadingAxes(Tensor input, int outer, int inner, Tensor output)
    {
        if (outer < 1 || inner < 1 || input.Length % ((long)outer * inner) != 0)
            throw new ArgumentException($"input {Tensor.ShapeText(input.Shape)} ({input.Length} values) does not split into [{outer}, {inner}, ...].", nameof(input));
        if (output.Length != input.Length)
            throw new ArgumentException($"output has {output.Length} elements but the input has {input.Length}.", nameof(output));
        return (outer, inner, (int)(input.Length / ((long)outer * inner)));
    }

    /// <summary>Throws when <paramref name="b"/> shares elements of one storage with <paramref name="a"/>.</summary>
    public static void Disjoint(Tensor a, Tensor b, string nameA, string nameB)
    {
        if (ReferenceEquals(a.Storage, b.Storage) && a.Length > 0 && b.Length > 0 && a.Offset < b.Offset + b.Length && b.Offset < a.Offset + a.Length)
            throw new ArgumentException($"{nameB} overlaps {nameA} (elements {b.Offset}..{b.Offset + b.Length} and {a.Offset}..{a.Offset + a.Length} of one storage).", nameB);
    }

    /// <summary>The spatial size H*W of <c>[N, channels, ...]</c> images.</summary>
    public static int Spatial(Tensor images, int channels, string argument)
    {
        if (channels < 1) throw new ArgumentException($"channels must be positive, got {channels}.", nameof(channels));
        if (images.Columns % channels != 0 || images.Columns == 0)
            throw new ArgumentException($"{argument} {Tensor.ShapeText(images.Shape)} does not hold [N, {channels}, ...] images.", argument);
        return images.Columns / channels;
    }

    /// <summary>Checks a per-channel vector (a bias or its gradient).</summary>
    public static void ChannelVector(Tensor vector, int channels, string name)
    {
        if (vector.Length != channels) throw new ArgumentException($"The {name} has {vector.Length} elements but there are {channels} channels.", name);
    }

    /// <summary>Checks pooling input and output against the geometry for <paramref name="images"/> images.</summary>
    public static void Pooling(int inputLength, int outputLength, int images, in PoolingGeometry g) => OperationArguments.Pooling(inputLength, outputLength, images, g);

    /// <summary>Checks the exponent of Lp pooling.</summary>
    public static void LpExponent(float p) => OperationArguments.LpExponent(p);

    /// <summary>Checks a keep probability for dropout.</summary>
    public static void KeepProbability(float keepProbability) => OperationArguments.KeepProbability(keepProbability);

    /// <summary>Checks local contrast normalization tensors against the geometry.</summary>
    public static int Lcn(Tensor input, Tensor output, Tensor deviation, in LcnGeometry g)
    {
        g.Validate();
        int images = input.Rows;
        if (input.Length != (long)images * g.ImageLength || output.Length != input.Length)
            throw new ArgumentException($"Input ({input.Length}) and output ({output.Length}) must hold {images} images of [{g.Channels}, {g.Height}, {g.Width}].", "input");
        if (deviation.Length != (long)images * g.PlaneLength)
            throw new ArgumentException($"deviation has {deviation.Length} elements but needs {images} x {g.PlaneLength}.", nameof(deviation));
        return images;
    }


}
