using Shinso.Backends;
using Shinso.OpenCL.Native;
using Shinso.Random;
using Shinso.Tensors;
using static Shinso.OpenCL.Native.OpenClApi;
using Shinso.Operations;

namespace Shinso.OpenCL;

/// <summary>
/// The OpenCL backend: tensors live in device buffers and every <see cref="IBackend"/> operation runs
/// as a kernel from the repository's <c>kernels/</c> folder (OpenCL C 1.2, so NVIDIA, AMD and POCL run it).
/// Buffers stay on the device across layers and steps; only uploads, downloads and returned scalars
/// cross to the host.
/// </summary>
/// <remarks>
/// One backend owns one in-order command queue; use it from one thread at a time. Sampling uses the
/// same Philox4x32-10 streams as the CPU backend, so uniforms and Bernoulli samples are bit-identical
/// for the same seed, stream and counter.
/// </remarks>
public sealed unsafe partial class OpenClBackend : IBackend
{
    private readonly OpenClContext _context;
    private readonly Dictionary<string, (BufferHandle Buffer, long Floats)> _scratch = new();
    private float[] _hostScratch = new float[256];
    private bool _disposed;

    /// <summary>Opens device <paramref name="deviceIndex"/> of <see cref="OpenClDevices.List"/>.</summary>
    /// <param name="deviceIndex">The device's number in <see cref="OpenClDevices.List"/>.</param>
    /// <param name="profileKernels">Time every kernel launch on the device (see <see cref="KernelProfile"/>); also turned on by
    /// <c>SHINSO_OPENCL_PROFILE=1</c>, which prints the profile to standard error when the backend is disposed.</param>
    /// <exception cref="OpenClException">OpenCL is missing, the device does not exist, or the kernels do not build (the message says why).</exception>
    public OpenClBackend(int deviceIndex = 0, bool profileKernels = false)
    {
        var devices = OpenClDevices.List();
        if (deviceIndex < 0 || deviceIndex >= devices.Count)
            throw new OpenClException(
                $"OpenCL device {deviceIndex} does not exist; this machine has {devices.Count}: " +
                string.Join("; ", devices.Select(d => $"{d.Index}: {d.Name} ({d.Platform})")) + ".");
        DeviceInfo = devices[deviceIndex];
        _context = new OpenClContext(DeviceInfo, profileKernels);
        // Build the main program now so a compiler problem surfaces when the backend is created.
        _context.Kernel("fill");
        ForcedGemmTile = GemmTile.Parse(Environment.GetEnvironmentVariable(GemmTile.EnvironmentVariable));
    }

    /// <summary>The device this backend runs on.</summary>
    public OpenClDeviceInfo DeviceInfo { get; }

    /// <summary>Kernels this backend has enqueued since it was created (a profile's count of launches).</summary>
    public long KernelLaunches => _context.KernelLaunches;

    /// <inheritdoc />
    public string Name => $"opencl:{DeviceInfo.Index}";

    /// <inheritdoc />
    /// <remarks>Default 64 MB: a whole training batch of the CIFAR net's first layer (30 MB) in one launch. Smaller chunks
    /// bound the device memory the columns take (and let tests reach the multi-chunk path on small images).</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int ColumnChunkFloats
    {
        get => _columnChunkFloats;
        init => _columnChunkFloats = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(ColumnChunkFloats), value, "must be at least 1.");
    }

    private readonly int _columnChunkFloats = 1 << 24;

    /// <summary>Forces one GEMM tile shape (tests use it to cover every variant on small matrices).</summary>
    internal GemmTile? ForcedGemmTile { get; set; }

    /// <summary>
    /// The kernel the last <see cref="Gemm"/> ran: <c>sgemm</c>, <c>sgemm_vec</c>, or <c>sgemm_vec (vload4)</c> when A or B
    /// is not 4-aligned (tests check which path they covered).
    /// </summary>
    internal string? LastGemmKernel { get; private set; }

    /// <summary>How many k-ranges the last <see cref="Gemm"/> was split into (1: not split).</summary>
    internal int LastGemmParts { get; private set; }

    /// <summary>
    /// Device time per kernel since the backend opened, as a table (launches, total ms, share, µs per launch), longest
    /// first. Waits for the queued launches.
    /// </summary>
    /// <exception cref="InvalidOperationException">The backend was not opened with kernel profiling.</exception>
    public string KernelProfile() =>
        (_context.Profiler ?? throw new InvalidOperationException(
            $"Kernel profiling is off: open the backend with profileKernels: true or set {KernelProfiler.EnvironmentVariable}=1.")).Report(DeviceInfo.Name);

    /// <summary>Waits until every enqueued kernel has finished (for timing); with kernel profiling on, also reads their
    /// device times (into <see cref="KernelProfile"/> and the running <see cref="Shinso.Profiling.Profiler"/>).</summary>
    /// <exception cref="ObjectDisposedException">The backend was disposed.</exception>
    public void Synchronize()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _context.Finish();
        _context.Profiler?.Collect();
    }

    // ---- memory -------------------------------------------------------------------------

    /// <inheritdoc />
    public Tensor Allocate(params int[] shape)
    {
        long n = Tensor.ElementCount(shape);
        var storage = new DeviceStorage(this, _context.CreateBuffer(n * sizeof(float)), (int)n);
        var t = Tensor.OnStorage(storage, 0, shape);
        Fill(t, 0f);
        return t;
    }

    /// <inheritdoc />
    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        var d = Device(destination, nameof(destination));
        BackendArguments.SameLength(source.Length, destination.Length, nameof(source), nameof(destination));
        if (source.Length == 0) return;
        fixed (float* s = source)
            OpenClException.Check(clEnqueueWriteBuffer(_context.Queue, d.Buffer.DangerousGetHandle(), 1, (nuint)destination.Offset * 4,
                (nuint)source.Length * 4, s, 0, null, null), "clEnqueueWriteBuffer");
    }

    /// <inheritdoc />
    public void Download(Tensor source, Span<float> destination)
    {
        var s = Device(source, nameof(source));
        BackendArguments.SameLength(source.Length, destination.Length, nameof(source), nameof(destination));
        if (destination.Length == 0) return;
        fixed (float* d = destination)
            OpenClException.Check(clEnqueueReadBuffer(_context.Queue, s.Buffer.DangerousGetHandle(), 1, (nuint)source.Offset * 4,
                (nuint)destination.Length * 4, d, 0, null, null), "clEnqueueReadBuffer");
    }

    /// <inheritdoc />
    public void Copy(Tensor source, Tensor destination)
    {
        Device(source, nameof(source));
        Device(destination, nameof(destination));
        BackendArguments.SameLength(source, destination, nameof(source), nameof(destination));
        Launch("copy").Tensor(source).Tensor(destination).Int(source.Length).Run(source.Length);
    }

    /// <inheritdoc />
    public void Fill(Tensor tensor, float value)
    {
        Device(tensor, nameof(tensor));
        Launch("fill").Tensor(tensor).Float(value).Int(tensor.Length).Run(tensor.Length);
    }

    // ---- linear algebra -----------------------------------------------------------------

    /// <inheritdoc />
    public void Gemm(Transpose transA, Transpose transB, float alpha, Tensor a, Tensor b, float beta, Tensor c)
    {
        Device(a, nameof(a));
        Device(b, nameof(b));
        Device(c, nameof(c));
        var (m, n, k) = BackendArguments.Gemm(transA, transB, a, b, c);
        if (m == 0 || n == 0) return;
        GemmTile tile = ForcedGemmTile ?? GemmTile.For(m, n, DeviceInfo.ComputeUnits);
        if (tile.LocalMemoryBytes > (long)DeviceInfo.LocalMemoryBytes)
            throw new ArgumentException($"GEMM tile {tile} needs {tile.LocalMemoryBytes} bytes of local memory; {DeviceInfo.Name} has {DeviceInfo.LocalMemoryBytes}.");
        string kernel = tile.Vector ? "sgemm_vec" : "sgemm";
        bool alignedA = GemmTile.AllowsFloat4(a.Offset, a.Columns), alignedB = GemmTile.AllowsFloat4(b.Offset, b.Columns);
        // The launch's name tells the profiler which load path the vector kernel took.
        string name = tile.Vector && !(alignedA && alignedB) ? "sgemm_vec (vload4)" : kernel;
        int kChunk = GemmTile.SplitKChunk(m, n, k, tile, DeviceInfo.ComputeUnits);
        int parts = kChunk >= k ? 1 : (k + kChunk - 1) / kChunk;
        LastGemmKernel = name;
        LastGemmParts = parts;
        var launch = new KernelLaunch(_context.GemmKernel(tile.CompilerOptions, kernel), _context, name, 0)
            .Int(m).Int(n).Int(k)
            .Float(parts == 1 ? alpha : 1f)
            .Tensor(a).Int(a.Columns).Int(transA == Transpose.None ? 0 : 1)
            .Tensor(b).Int(b.Columns).Int(transB == Transpose.None ? 0 : 1);
        // A split product writes each part's m x n block to scratch; sum_gemm_parts then applies alpha and beta.
        BufferHandle? scratch = parts > 1 ? Scratch("gemmParts", (long)parts * m * n) : null;
        launch = scratch is null
            ? launch.Float(beta).Tensor(c).Int(c.Columns).Int(Math.Max(k, 1)).Int(0)
            : launch.Float(0f).Buffer(scratch).Int(0).Int(n).Int(kChunk).Int(m * n);
        if (tile.Vector) launch = launch.Int(alignedA ? 1 : 0).Int(alignedB ? 1 : 0);
        _context.Profiler?.FlopsOfNextLaunch(2.0 * m * n * k);
        launch.Run((long)(n + tile.TileN - 1) / tile.TileN * tile.GroupN, (long)(m + tile.TileM - 1) / tile.TileM * tile.GroupM, parts, tile.GroupN, tile.GroupM);
        if (scratch is not null)
            new KernelLaunch(_context.GemmKernel(tile.CompilerOptions, "sum_gemm_parts"), _context, "sum_gemm_parts", 0)
                .Buffer(scratch).Int(parts).Int(m).Int(n).Float(alpha).Float(beta).Tensor(c).Int(c.Columns)
                .Run(n, m);
    }

    /// <inheritdoc />
    public void Axpy(float alpha, Tensor x, Tensor y)
    {
        Elementwise(x, y, nameof(x), nameof(y));
        Launch("axpy").Float(alpha).Tensor(x).Tensor(y).Int(x.Length).Run(x.Length);
    }

    /// <inheritdoc />
    public void Axpby(float alpha, Tensor x, float beta, Tensor y)
    {
        Elementwise(x, y, nameof(x), nameof(y));
        Launch("axpby").Float(alpha).Tensor(x).Float(beta).Tensor(y).Int(x.Length).Run(x.Length);
    }

    /// <inheritdoc />
    public void ScaleShift(Tensor x, float scale, float shift, Tensor y)
    {
        Elementwise(x, y, nameof(x), nameof(y));
        Launch("scale_shift").Tensor(x).Float(scale).Float(shift).Tensor(y).Int(x.Length).Run(x.Length);
    }

    /// <inheritdoc />
    public void Multiply(Tensor a, Tensor b, Tensor result)
    {
        Elementwise(a, b, nameof(a), nameof(b));
        Elementwise(a, result, nameof(a), nameof(result));
        Launch("multiply").Tensor(a).Tensor(b).Tensor(result).Int(a.Length).Run(a.Length);
    }

    /// <inheritdoc />
    public void PackColumnPanels(Tensor b, Tensor panels)
    {
        Device(b, nameof(b));
        Device(panels, nameof(panels));
        if (b.Rank != 2) throw new ArgumentException($"b must be a matrix; it has shape {Tensor.ShapeText(b.Shape)}.", nameof(b));
        BackendArguments.ColumnPanelsOf(b.Rows, b.Columns, panels);
        if (panels.Length == 0) return;
        Launch("pack_column_panels").Tensor(b).Int(b.Rows).Int(b.Columns).Tensor(panels).Run(panels.Dim(0) * ColumnPanels.Width, b.Rows);
    }

    /// <inheritdoc />
    public void AffineColumnPanels(Tensor x, Tensor panels, Tensor bias, Tensor y)
    {
        Device(x, nameof(x));
        Device(panels, nameof(panels));
        Device(bias, nameof(bias));
        Device(y, nameof(y));
        var (rows, n, k) = BackendArguments.AffineColumnPanels(x, panels, bias, y);
        if (rows == 0 || n == 0) return;
        Launch("affine_column_panels").Tensor(x).Tensor(panels).Tensor(bias).Tensor(y).Int(rows).Int(k).Int(n).Run(n, rows);
    }

    /// <inheritdoc />
    public void AddRowVector(Tensor matrix, Tensor row)
    {
        Device(matrix, nameof(matrix));
        Device(row, nameof(row));
        BackendArguments.RowVector(matrix, row, nameof(row));
        Launch("add_row_vector").Tensor(matrix).Int(matrix.Rows).Int(matrix.Columns).Tensor(row).Run(matrix.Columns, matrix.Rows);
    }

    /// <inheritdoc />
    public void SumColumns(Tensor matrix, Tensor result, float beta = 0f)
    {
        Device(matrix, nameof(matrix));
        Device(result, nameof(result));
        BackendArguments.RowVector(matrix, result, nameof(result));
        Launch("sum_columns").Tensor(matrix).Int(matrix.Rows).Int(matrix.Columns).Tensor(result).Float(beta).Run(matrix.Columns);
    }

    /// <inheritdoc />
    public void SumRows(Tensor matrix, Tensor result)
    {
        Device(matrix, nameof(matrix));
        Device(result, nameof(result));
        BackendArguments.PerRow(matrix, result, nameof(matrix));
        Launch("sum_rows").Tensor(matrix).Int(matrix.Rows).Int(matrix.Columns).Tensor(result).Run(matrix.Rows);
    }

    /// <inheritdoc />
    public float Sum(Tensor x) => PartialSums(x, squares: false);

    /// <inheritdoc />
    public float SumOfSquares(Tensor x) => PartialSums(x, squares: true);

    private float PartialSums(Tensor x, bool squares)
    {
        Device(x, nameof(x));
        if (x.Length == 0) return 0f;
        int items = (int)Math.Min(4096, (x.Length + KernelLaunch.GroupSize - 1) / KernelLaunch.GroupSize * KernelLaunch.GroupSize);
        var partial = Scratch("partial", items);
        Launch("partial_sums").Tensor(x).Int(x.Length).Int(squares ? 1 : 0).Buffer(partial).Run(items);
        return (float)SumOnHost(partial, items);
    }

    // ---- activations --------------------------------------------------------------------

    /// <inheritdoc />
    public void Activate(Activation function, Tensor x, Tensor y)
    {
        Elementwise(x, y, nameof(x), nameof(y));
        Launch("activation_forward").Int((int)function).Tensor(x).Tensor(y).Int(x.Length).Run(x.Length);
    }

    /// <inheritdoc />
    public void ActivationBackward(Activation function, Tensor x, Tensor y, Tensor dy, Tensor dx)
    {
        Elementwise(x, y, nameof(x), nameof(y));
        Elementwise(x, dy, nameof(x), nameof(dy));
        Elementwise(x, dx, nameof(x), nameof(dx));
        Launch("activation_backward").Int((int)function).Tensor(x).Tensor(y).Tensor(dy).Tensor(dx).Int(x.Length).Run(x.Length);
    }

    /// <inheritdoc />
    public void SoftmaxRows(Tensor x, Tensor y)
    {
        Device(x, nameof(x));
        Device(y, nameof(y));
        BackendArguments.SameShape(x, y, nameof(x), nameof(y));
        Launch("softmax_rows").Tensor(x).Int(x.Rows).Int(x.Columns).Tensor(y).Run(x.Rows);
    }

    /// <inheritdoc />
    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx)
    {
        Device(y, nameof(y));
        Device(dy, nameof(dy));
        Device(dx, nameof(dx));
        BackendArguments.SameShape(y, dy, nameof(y), nameof(dy));
        BackendArguments.SameLength(y, dx, nameof(y), nameof(dx));
        Launch("softmax_backward").Tensor(y).Tensor(dy).Int(y.Rows).Int(y.Columns).Tensor(dx).Run(y.Rows);
    }

    /// <inheritdoc />
    public void LogSumExpRows(Tensor x, Tensor result)
    {
        Device(x, nameof(x));
        Device(result, nameof(result));
        BackendArguments.PerRow(x, result, nameof(x));
        Launch("log_sum_exp_rows").Tensor(x).Int(x.Rows).Int(x.Columns).Tensor(result).Run(x.Rows);
    }

    // ---- losses ---------------------------------------------------------------------------

    /// <inheritdoc />
    public float SoftmaxCrossEntropy(Tensor logits, Tensor targets, Tensor probabilities, Tensor logitsGradient) =>
        RowLoss("softmax_cross_entropy", logits, targets, probabilities, logitsGradient) / logits.Rows;

    /// <inheritdoc />
    public float SigmoidCrossEntropy(Tensor logits, Tensor targets, Tensor probabilities, Tensor logitsGradient) =>
        RowLoss("sigmoid_cross_entropy", logits, targets, probabilities, logitsGradient) / logits.Rows;

    /// <inheritdoc />
    public float SquaredError(Tensor outputs, Tensor targets, Tensor outputsGradient)
    {
        CheckLoss(outputs, targets, outputs, outputsGradient);
        var rowLoss = Scratch("rowLoss", outputs.Rows);
        Launch("squared_error").Tensor(outputs).Tensor(targets).Int(outputs.Rows).Int(outputs.Columns).Tensor(outputsGradient)
            .Buffer(rowLoss).Run(outputs.Rows);
        return (float)(SumOnHost(rowLoss, outputs.Rows) / (2.0 * outputs.Rows));
    }

    private float RowLoss(string kernel, Tensor logits, Tensor targets, Tensor probabilities, Tensor gradient)
    {
        CheckLoss(logits, targets, probabilities, gradient);
        var rowLoss = Scratch("rowLoss", logits.Rows);
        Launch(kernel).Tensor(logits).Tensor(targets).Int(logits.Rows).Int(logits.Columns).Tensor(probabilities).Tensor(gradient)
            .Buffer(rowLoss).Run(logits.Rows);
        return (float)SumOnHost(rowLoss, logits.Rows);
    }

    private void CheckLoss(Tensor scores, Tensor targets, Tensor predictions, Tensor gradient)
    {
        Device(scores, nameof(scores));
        Device(targets, nameof(targets));
        Device(predictions, nameof(predictions));
        Device(gradient, nameof(gradient));
        if (scores.Rows < 1 || scores.Columns < 1)
            throw new ArgumentException($"A loss needs at least one row and one column, got {scores.Rows} x {scores.Columns}.", nameof(scores));
        BackendArguments.SameLength(scores, targets, nameof(scores), nameof(targets));
        BackendArguments.SameLength(scores, predictions, nameof(scores), nameof(predictions));
        BackendArguments.SameLength(scores, gradient, nameof(scores), nameof(gradient));
    }

    // ---- regularizers ---------------------------------------------------------------------

    /// <inheritdoc />
    public void ClipColumnNorms(Tensor matrix, float maxNorm)
    {
        Device(matrix, nameof(matrix));
        Launch("clip_column_norms").Tensor(matrix).Int(matrix.Rows).Int(matrix.Columns).Float(maxNorm).Run(matrix.Columns);
    }

    /// <inheritdoc />
    public void SampleDropoutMask(RandomStream stream, ulong counter, float keepProbability, Tensor mask)
    {
        Device(mask, nameof(mask));
        BackendArguments.KeepProbability(keepProbability);
        Launch("dropout_mask").ULong(stream.Seed).ULong(stream.Stream).ULong(counter).Float(keepProbability).Float(1f / keepProbability)
            .Tensor(mask).Int(mask.Length).Run(mask.Length);
    }

    // ---- convolution --------------------------------------------------------------------

    /// <inheritdoc />
    public void Im2Col(Tensor images, ConvolutionGeometry geometry, Tensor columns)
    {
        Device(images, nameof(images));
        Device(columns, nameof(columns));
        int n = BackendArguments.Convolution(images, geometry, columns);
        Geometry(Launch("im2col").Tensor(images).Tensor(columns), geometry).Int(n)
            .Run(geometry.ColumnCount, geometry.ColumnRows, n);
    }

    /// <inheritdoc />
    public void Col2Im(Tensor columns, ConvolutionGeometry geometry, Tensor images)
    {
        Device(images, nameof(images));
        Device(columns, nameof(columns));
        int n = BackendArguments.Convolution(images, geometry, columns);
        Geometry(Launch("col2im").Tensor(columns).Tensor(images), geometry).Int(n).Run(geometry.ImageLength, n);
    }

    /// <inheritdoc />
    public void TiledIm2Col(Tensor images, TiledConvolutionGeometry geometry, Tensor columns)
    {
        Device(images, nameof(images));
        Device(columns, nameof(columns));
        int n = OperationArguments.TiledColumns(images.Length, nameof(images), geometry, columns.Length, nameof(columns));
        Tiled(Geometry(Launch("tiled_im2col").Tensor(images).Tensor(columns), geometry.Convolution), geometry).Int(n)
            .Run(n * geometry.SlotsPerImage, geometry.Tiles * geometry.Convolution.ColumnRows);
    }

    /// <inheritdoc />
    public void TiledCol2Im(Tensor columns, TiledConvolutionGeometry geometry, Tensor images)
    {
        Device(images, nameof(images));
        Device(columns, nameof(columns));
        int n = OperationArguments.TiledColumns(images.Length, nameof(images), geometry, columns.Length, nameof(columns));
        Tiled(Geometry(Launch("tiled_col2im").Tensor(columns).Tensor(images), geometry.Convolution), geometry).Int(n)
            .Run(geometry.Convolution.ImageLength, n);
    }

    /// <inheritdoc />
    public void TileInterleave(Tensor products, TiledConvolutionGeometry geometry, int filters, Tensor bias, Tensor maps)
    {
        Device(products, nameof(products));
        Device(bias, nameof(bias));
        Device(maps, nameof(maps));
        int n = OperationArguments.TiledMaps(maps.Length, nameof(maps), geometry, filters, products.Length, nameof(products));
        OperationArguments.TileBias(bias.Length, geometry, filters);
        var c = geometry.Convolution;
        Tiled(Launch("tile_interleave").Tensor(products).Tensor(bias).Tensor(maps).Int(filters).Int(c.OutputHeight).Int(c.OutputWidth), geometry).Int(n)
            .Run(c.ColumnCount, n * filters);
    }

    /// <inheritdoc />
    public void TileDeinterleave(Tensor maps, TiledConvolutionGeometry geometry, int filters, Tensor products)
    {
        Device(maps, nameof(maps));
        Device(products, nameof(products));
        int n = OperationArguments.TiledMaps(maps.Length, nameof(maps), geometry, filters, products.Length, nameof(products));
        var c = geometry.Convolution;
        Tiled(Launch("tile_deinterleave").Tensor(maps).Tensor(products).Int(filters).Int(c.OutputHeight).Int(c.OutputWidth), geometry).Int(n)
            .Run(n * geometry.SlotsPerImage, geometry.Tiles * filters);
    }

    private static KernelLaunch Tiled(KernelLaunch launch, in TiledConvolutionGeometry g) =>
        launch.Int(g.Tile).Int(g.SlotRows).Int(g.SlotColumns);

    /// <inheritdoc />
    public void SwapLeadingAxes(Tensor input, int outer, int inner, Tensor output)
    {
        Device(input, nameof(input));
        Device(output, nameof(output));
        var (a, b, rest) = BackendArguments.SwapLeadingAxes(input, outer, inner, output);
        Launch("swap_leading_axes").Tensor(input).Tensor(output).Int(a).Int(b).Int(rest).Run(rest, a * b);
    }

    private static KernelLaunch Geometry(KernelLaunch launch, in ConvolutionGeometry g) =>
        launch.Int(g.Channels).Int(g.Height).Int(g.Width).Int(g.KernelHeight).Int(g.KernelWidth).Int(g.StrideHeight).Int(g.StrideWidth)
            .Int(g.PadHeight).Int(g.PadWidth).Int(g.OutputHeight).Int(g.OutputWidth);

    // ---- sampling -----------------------------------------------------------------------

    /// <inheritdoc />
    public void SampleUniform(RandomStream stream, ulong counter, Tensor destination)
    {
        Device(destination, nameof(destination));
        Random("sample_uniform", stream, counter).Tensor(destination).Int(destination.Length).Run(destination.Length);
    }

    /// <inheritdoc />
    public void SampleGaussian(RandomStream stream, ulong counter, float mean, float standardDeviation, Tensor destination)
    {
        Device(destination, nameof(destination));
        Random("sample_gaussian", stream, counter).Float(mean).Float(standardDeviation).Tensor(destination).Int(destination.Length)
            .Run(destination.Length);
    }

    /// <inheritdoc />
    public void SampleBernoulli(RandomStream stream, ulong counter, Tensor probabilities, Tensor samples)
    {
        Elementwise(probabilities, samples, nameof(probabilities), nameof(samples));
        Random("sample_bernoulli", stream, counter).Tensor(probabilities).Tensor(samples).Int(samples.Length).Run(samples.Length);
    }

    /// <inheritdoc />
    public void SigmoidBernoulli(RandomStream stream, ulong counter, Tensor preActivation, Tensor probabilities, Tensor samples)
    {
        Elementwise(preActivation, probabilities, nameof(preActivation), nameof(probabilities));
        Elementwise(preActivation, samples, nameof(preActivation), nameof(samples));
        Random("sigmoid_bernoulli", stream, counter).Tensor(preActivation).Tensor(probabilities).Tensor(samples).Int(samples.Length)
            .Run(samples.Length);
    }

    /// <inheritdoc />
    public void SampleOneHot(RandomStream stream, ulong counter, Tensor probabilities, Tensor samples)
    {
        Device(probabilities, nameof(probabilities));
        Device(samples, nameof(samples));
        BackendArguments.OneHotRows(probabilities, samples);
        Random("sample_one_hot", stream, counter).Tensor(probabilities).Tensor(samples).Int(samples.Rows).Int(samples.Columns).Run(samples.Rows);
    }

    /// <summary>The raw Philox words at positions <c>counter*4 + i</c> (tests compare them with the CPU's).</summary>
    internal uint[] PhiloxWords(RandomStream stream, ulong counter, int count)
    {
        var buffer = Scratch("words", count);
        Random("philox_words", stream, counter).Buffer(buffer).Int(count).Run(count);
        var words = new uint[count];
        fixed (uint* w = words)
            OpenClException.Check(clEnqueueReadBuffer(_context.Queue, buffer.DangerousGetHandle(), 1, 0, (nuint)count * 4, w, 0, null, null),
                "clEnqueueReadBuffer");
        return words;
    }

    private KernelLaunch Random(string kernel, RandomStream stream, ulong counter) =>
        Launch(kernel).ULong(stream.Seed).ULong(stream.Stream).ULong(counter);

    // ---- optimizer updates ----------------------------------------------------------------

    /// <inheritdoc />
    public void MomentumUpdate(Tensor parameters, Tensor gradient, Tensor velocity, float learningRate, float momentum)
    {
        Update(parameters, gradient, velocity);
        Launch("momentum_update").Tensor(parameters).Tensor(gradient).Tensor(velocity).Float(learningRate).Float(momentum)
            .Int(parameters.Length).Run(parameters.Length);
    }

    /// <inheritdoc />
    public void NesterovUpdate(Tensor parameters, Tensor gradient, Tensor velocity, float learningRate, float momentum)
    {
        Update(parameters, gradient, velocity);
        Launch("nesterov_update").Tensor(parameters).Tensor(gradient).Tensor(velocity).Float(learningRate).Float(momentum)
            .Int(parameters.Length).Run(parameters.Length);
    }

    /// <inheritdoc />
    public void AdaGradUpdate(Tensor parameters, Tensor gradient, Tensor sumOfSquares, float learningRate, float epsilon)
    {
        Update(parameters, gradient, sumOfSquares);
        Launch("adagrad_update").Tensor(parameters).Tensor(gradient).Tensor(sumOfSquares).Float(learningRate).Float(epsilon)
            .Int(parameters.Length).Run(parameters.Length);
    }

    /// <inheritdoc />
    public void RmsPropUpdate(Tensor parameters, Tensor gradient, Tensor meanSquare, float learningRate, float decay, float epsilon)
    {
        Update(parameters, gradient, meanSquare);
        Launch("rmsprop_update").Tensor(parameters).Tensor(gradient).Tensor(meanSquare).Float(learningRate).Float(decay).Float(epsilon)
            .Int(parameters.Length).Run(parameters.Length);
    }

    /// <inheritdoc />
    public void AdaDeltaUpdate(Tensor parameters, Tensor gradient, Tensor meanSquareGradient, Tensor meanSquareDelta, float decay, float epsilon)
    {
        Update(parameters, gradient, meanSquareGradient);
        Update(parameters, gradient, meanSquareDelta);
        Launch("adadelta_update").Tensor(parameters).Tensor(gradient).Tensor(meanSquareGradient).Tensor(meanSquareDelta)
            .Float(decay).Float(epsilon).Int(parameters.Length).Run(parameters.Length);
    }

    /// <inheritdoc />
    public void AdamUpdate(Tensor parameters, Tensor gradient, Tensor firstMoment, Tensor secondMoment,
        float learningRate, float beta1, float beta2, float epsilon, int step)
    {
        Update(parameters, gradient, firstMoment);
        Update(parameters, gradient, secondMoment);
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "Adam's step count starts at 1.");
        float correction1 = (float)(1.0 / (1.0 - Math.Pow(beta1, step)));
        float correction2 = (float)(1.0 / (1.0 - Math.Pow(beta2, step)));
        Launch("adam_update").Tensor(parameters).Tensor(gradient).Tensor(firstMoment).Tensor(secondMoment)
            .Float(learningRate).Float(beta1).Float(beta2).Float(epsilon).Float(correction1).Float(correction2)
            .Int(parameters.Length).Run(parameters.Length);
    }

    private void Update(Tensor parameters, Tensor gradient, Tensor state)
    {
        Elementwise(parameters, gradient, nameof(parameters), nameof(gradient));
        Elementwise(parameters, state, nameof(parameters), "state");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var (buffer, _) in _scratch.Values) buffer.Dispose();
        _scratch.Clear();
        _context.Dispose();
    }

    // ---- helpers ------------------------------------------------------------------------

    private KernelLaunch Launch(string kernel)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new KernelLaunch(_context.Kernel(kernel), _context, kernel, 0);
    }

    private DeviceStorage Device(Tensor t, string argument)
    {
        if (t.Storage is DeviceStorage storage && ReferenceEquals(t.Backend, this)) return storage;
        throw new ArgumentException($"{argument} lives on backend '{t.Backend.Name}', not on this OpenCL backend ({Name}).", argument);
    }

    private void Elementwise(Tensor a, Tensor b, string nameA, string nameB)
    {
        Device(a, nameA);
        Device(b, nameB);
        BackendArguments.SameLength(a, b, nameA, nameB);
    }

    /// <summary>A device scratch buffer of at least <paramref name="floats"/> elements, kept for reuse.</summary>
    private BufferHandle Scratch(string purpose, long floats)
    {
        if (_scratch.TryGetValue(purpose, out var entry) && entry.Floats >= floats) return entry.Buffer;
        entry.Buffer?.Dispose();
        long size = Math.Max(floats, entry.Floats * 2);
        var buffer = _context.CreateBuffer(size * sizeof(float));
        _scratch[purpose] = (buffer, size);
        return buffer;
    }

    private double SumOnHost(BufferHandle buffer, int count)
    {
        if (_hostScratch.Length < count) _hostScratch = new float[Math.Max(count, 2 * _hostScratch.Length)];
        fixed (float* h = _hostScratch)
            OpenClException.Check(clEnqueueReadBuffer(_context.Queue, buffer.DangerousGetHandle(), 1, 0, (nuint)count * 4, h, 0, null, null),
                "clEnqueueReadBuffer");
        double sum = 0;
        for (int i = 0; i < count; i++) sum += _hostScratch[i];
        return sum;
    }
}
