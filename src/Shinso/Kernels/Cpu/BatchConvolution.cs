using System.Numerics.Tensors;
using Shinso.Operations;

namespace Shinso.Kernels.Cpu;

/// <summary>
/// A convolution layer's forward and backward passes over a batch of NCHW images, by im2col and GEMM on chunks of
/// images whose columns fit in a core's cache.
/// </summary>
/// <remarks>
/// With several threads and at least as many chunks (forward) or groups (backward) as threads, each thread takes whole
/// chunks, unfolding, multiplying and transposing each with single-threaded kernels, so a chunk's columns are written
/// and read in one core's cache. Splitting every step of every chunk across the threads instead moved the columns
/// between cores twice per chunk, and made LeNet-5 train slower on two threads than on one. With fewer chunks than
/// threads (large images, a batch of one) the chunks run one after another with all threads in each step.
/// Chunks rather than the whole batch: a LeNet batch's columns (5.8 MB) would go through memory, while a chunk's stay
/// in cache (6.5 -> 5.0 ms per LeNet-5 step); chunks rather than single images: one image is too small a product
/// (14k against 18.7k samples/s).
/// The weight gradient sums the chunks in groups fixed by the shapes alone: a group's chunks accumulate in order into
/// the group's own partial sum, and the partials are added in group order. The result therefore depends on neither
/// the thread count nor the path taken.
/// </remarks>
public static unsafe class BatchConvolution
{
    /// <summary>Most groups the weight gradient is summed in.</summary>
    public const int MaxGroups = 32;

    /// <summary>Most floats the groups' partial weight gradients take together (16 MB): fewer groups for larger filter banks.</summary>
    public const int PartialFloatsBudget = 1 << 22;

    /// <summary>Groups the weight gradient of <paramref name="chunks"/> chunks is summed in; depends on the shapes only.</summary>
    public static int Groups(int chunks, int filters, in ConvolutionGeometry geometry)
    {
        long budget = PartialFloatsBudget / Math.Max(1L, (long)filters * geometry.ColumnRows);
        int groups = (int)Math.Clamp(Math.Min(Math.Min(chunks, MaxGroups), budget), 1, MaxGroups);
        // Equal runs of chunks; the last run may be shorter, and no group is left empty.
        int perGroup = (chunks + groups - 1) / groups;
        return (chunks + perGroup - 1) / perGroup;
    }

    /// <summary>
    /// <c>output[n, f] = bias[f] + weight[f] · im2col(input[n])</c> for <paramref name="images"/> images: see
    /// <c>IBackend.ConvolutionForward</c>.
    /// </summary>
    /// <param name="input">N images of <c>[C, H, W]</c>.</param>
    /// <param name="images">N.</param>
    /// <param name="geometry">Input size, kernel, stride and padding.</param>
    /// <param name="weight">Filters <c>[F, C*KH*KW]</c>, rows in im2col order.</param>
    /// <param name="bias">One bias per filter.</param>
    /// <param name="output">N images of <c>[F, OH, OW]</c>, overwritten.</param>
    /// <param name="chunkFloats">Column floats one chunk of images may unfold to.</param>
    /// <param name="workspace">Buffers reused from call to call.</param>
    /// <param name="options">Instruction-set path and thread count.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or the geometry is invalid.</exception>
    public static void Forward(ReadOnlySpan<float> input, int images, in ConvolutionGeometry geometry, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, Span<float> output, int chunkFloats, ConvolutionWorkspace workspace, CpuKernelOptions options = default)
    {
        int filters = bias.Length;
        Check(input.Length, images, geometry, weight.Length, filters, output.Length, nameof(output));
        int chunk = geometry.ChunkImages(images, chunkFloats);
        int chunks = (images + chunk - 1) / chunk;
        var plan = Plan.Create(geometry, images, filters, chunk, chunks, tasks: chunks, options, workspace, partials: 0);
        fixed (float* x = input)
        fixed (float* w = weight)
        fixed (float* b = bias)
        fixed (float* y = output)
        fixed (float* slots = workspace.Slots)
        {
            var job = new Job(plan, slots, x, w) { Bias = b, Output = y };
            job.RunAll(options);
        }
    }

    /// <summary>
    /// The gradients of <see cref="Forward"/> for <paramref name="outputGradient"/>: see <c>IBackend.ConvolutionBackward</c>.
    /// </summary>
    /// <param name="input">The N images the forward pass saw.</param>
    /// <param name="images">N.</param>
    /// <param name="geometry">Input size, kernel, stride and padding.</param>
    /// <param name="weight">Filters <c>[F, C*KH*KW]</c>.</param>
    /// <param name="outputGradient">dLoss/dOutput, N images of <c>[F, OH, OW]</c>.</param>
    /// <param name="weightGradient">dLoss/dWeight <c>[F, C*KH*KW]</c>, overwritten.</param>
    /// <param name="biasGradient">dLoss/dBias, one per filter, overwritten.</param>
    /// <param name="inputGradient">dLoss/dInput like <paramref name="input"/>, overwritten; empty to skip it.</param>
    /// <param name="chunkFloats">Column floats one chunk of images may unfold to.</param>
    /// <param name="workspace">Buffers reused from call to call.</param>
    /// <param name="options">Instruction-set path and thread count.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or the geometry is invalid.</exception>
    public static void Backward(ReadOnlySpan<float> input, int images, in ConvolutionGeometry geometry, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> outputGradient, Span<float> weightGradient, Span<float> biasGradient, Span<float> inputGradient,
        int chunkFloats, ConvolutionWorkspace workspace, CpuKernelOptions options = default)
    {
        int filters = biasGradient.Length;
        Check(input.Length, images, geometry, weight.Length, filters, outputGradient.Length, nameof(outputGradient));
        if (weightGradient.Length != weight.Length)
            throw new ArgumentException($"weightGradient has {weightGradient.Length} elements but the weight has {weight.Length}.", nameof(weightGradient));
        if (!inputGradient.IsEmpty && inputGradient.Length != input.Length)
            throw new ArgumentException($"inputGradient has {inputGradient.Length} elements but the input has {input.Length}.", nameof(inputGradient));
        Normalization.SumChannelBias(outputGradient, filters, geometry.ColumnCount, biasGradient);
        int chunk = geometry.ChunkImages(images, chunkFloats);
        int chunks = (images + chunk - 1) / chunk;
        int groups = Groups(chunks, filters, geometry);
        int partial = filters * geometry.ColumnRows;
        var plan = Plan.Create(geometry, images, filters, chunk, chunks, tasks: groups, options, workspace, partials: groups > 1 ? groups * partial : 0);
        fixed (float* x = input)
        fixed (float* w = weight)
        fixed (float* dy = outputGradient)
        fixed (float* dw = weightGradient)
        fixed (float* dx = inputGradient)
        fixed (float* slots = workspace.Slots)
        fixed (float* partials = workspace.Partials)
        {
            var job = new Job(plan, slots, x, w)
            {
                Backward = true, OutputGradient = dy, WeightGradient = dw, InputGradient = inputGradient.IsEmpty ? null : dx, Partials = partials,
            };
            job.RunAll(options);
            if (groups > 1)
            {
                // Group order, whatever ran where: the same sum on every thread count.
                var sum = new Span<float>(dw, partial);
                new ReadOnlySpan<float>(partials, partial).CopyTo(sum);
                for (int g = 1; g < groups; g++)
                    TensorPrimitives.Add(sum, new ReadOnlySpan<float>(partials + (long)g * partial, partial), sum);
            }
        }
    }

    /// <summary>
    /// dLoss/dInput of <see cref="Forward"/> alone: see <c>IConvolution.ConvolutionInputGradient</c>. Half of
    /// <see cref="Backward"/>'s work, without the input's unfold or the weight product.
    /// </summary>
    /// <param name="images">N.</param>
    /// <param name="geometry">Input size, kernel, stride and padding.</param>
    /// <param name="weight">Filters <c>[F, C*KH*KW]</c>.</param>
    /// <param name="filters">F.</param>
    /// <param name="outputGradient">dLoss/dOutput, N images of <c>[F, OH, OW]</c>.</param>
    /// <param name="inputGradient">dLoss/dInput, N images of <c>[C, H, W]</c>, overwritten.</param>
    /// <param name="chunkFloats">Column floats one chunk of images may unfold to.</param>
    /// <param name="workspace">Buffers reused from call to call.</param>
    /// <param name="options">Instruction-set path and thread count.</param>
    /// <exception cref="ArgumentException">A span has the wrong length, or the geometry is invalid.</exception>
    public static void InputGradient(int images, in ConvolutionGeometry geometry, ReadOnlySpan<float> weight, int filters,
        ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int chunkFloats, ConvolutionWorkspace workspace, CpuKernelOptions options = default)
    {
        Check(inputGradient.Length, images, geometry, weight.Length, filters, outputGradient.Length, nameof(outputGradient), nameof(inputGradient));
        int chunk = geometry.ChunkImages(images, chunkFloats);
        int chunks = (images + chunk - 1) / chunk;
        // Every chunk writes only its own images: one task per chunk, as forward, and nothing to sum across tasks.
        var plan = Plan.Create(geometry, images, filters, chunk, chunks, tasks: chunks, options, workspace, partials: 0);
        fixed (float* w = weight)
        fixed (float* dy = outputGradient)
        fixed (float* dx = inputGradient)
        fixed (float* slots = workspace.Slots)
        {
            var job = new Job(plan, slots, null, w) { Backward = true, OutputGradient = dy, InputGradient = dx };
            job.RunAll(options);
        }
    }

    private static void Check(int inputLength, int images, in ConvolutionGeometry g, int weightLength, int filters, int outputLength, string outputName,
        string inputName = "input")
    {
        g.Validate();
        if (images < 1 || inputLength != (long)images * g.ImageLength)
            throw new ArgumentException($"{inputName} has {inputLength} elements, not {images} image(s) of C*H*W = {g.ImageLength}.", inputName);
        if (filters < 1 || weightLength != (long)filters * g.ColumnRows)
            throw new ArgumentException($"weight has {weightLength} elements but {filters} filter(s) of C*KH*KW = {g.ColumnRows} need {(long)filters * g.ColumnRows}.", "weight");
        if (outputLength != (long)images * filters * g.ColumnCount)
            throw new ArgumentException(
                $"{outputName} has {outputLength} elements but {images} image(s) of [{filters}, {g.OutputHeight}, {g.OutputWidth}] need {(long)images * filters * g.ColumnCount}.", outputName);
    }

    /// <summary>Sizes of one call, and whether its tasks run one per thread.</summary>
    private struct Plan
    {
        public ConvolutionGeometry Geometry;
        public int Images, Filters, Chunk, Chunks, Tasks, Parts;
        public long SlotFloats, ColumnFloats;

        /// <summary>Chunks per task: one forward; a run of chunks per group backward (the last run may be shorter).</summary>
        public readonly int ChunksPerGroup => (Chunks + Tasks - 1) / Tasks;

        public static Plan Create(in ConvolutionGeometry g, int images, int filters, int chunk, int chunks, int tasks,
            in CpuKernelOptions options, ConvolutionWorkspace workspace, long partials)
        {
            int threads = options.ResolvedThreads;
            // One task per thread when there are enough of them to go round; otherwise every thread in each step.
            int parts = threads > 1 && tasks >= threads ? threads : 1;
            long columns = (long)chunk * g.ColumnRows * g.ColumnCount;
            long slot = columns + (long)chunk * filters * g.ColumnCount;
            workspace.Ensure(parts * slot, partials);
            return new Plan
            {
                Geometry = g, Images = images, Filters = filters, Chunk = chunk, Chunks = chunks,
                Tasks = tasks, Parts = parts, SlotFloats = slot, ColumnFloats = columns,
            };
        }
    }

    /// <summary>One call's pointers; <see cref="Run"/> does one task (a chunk forward, a group of chunks backward).</summary>
    private readonly struct Job(Plan plan, float* slots, float* input, float* weight)
    {
        public bool Backward { get; init; }
        public float* Bias { get; init; }
        public float* Output { get; init; }
        public float* OutputGradient { get; init; }
        public float* WeightGradient { get; init; }
        public float* InputGradient { get; init; }
        public float* Partials { get; init; }

        public int Tasks => plan.Tasks;

        public void RunAll(in CpuKernelOptions options)
        {
            if (plan.Parts == 1)
            {
                for (int task = 0; task < plan.Tasks; task++)
                    Run(task, 0, options);
                return;
            }
            var work = ClaimWork.Current ??= new ClaimWork();
            work.Job = this;
            work.Options = options with { Threads = 1 };
            work.Next = 0;
            try
            {
                KernelThreadPool.Run(work, plan.Parts);
            }
            finally
            {
                work.Job = default;
            }
        }

        public void Run(int task, int slot, in CpuKernelOptions options)
        {
            if (Backward) RunBackward(task, slot, options);
            else RunForward(task, slot, options);
        }

        private void RunForward(int chunk, int slot, in CpuKernelOptions options)
        {
            ref readonly var g = ref plan.Geometry;
            int start = chunk * plan.Chunk, images = Math.Min(plan.Chunk, plan.Images - start);
            int f = plan.Filters, rows = g.ColumnRows, count = g.ColumnCount, width = images * count;
            var columns = new Span<float>(slots + slot * plan.SlotFloats, rows * width);
            var product = new Span<float>(slots + slot * plan.SlotFloats + plan.ColumnFloats, f * width);
            var output = new Span<float>(Output + (long)start * f * count, f * width);
            Im2Col.Unfold(new ReadOnlySpan<float>(input + (long)start * g.ImageLength, images * g.ImageLength), g, columns, options);
            Sgemm.Compute(Transpose.None, Transpose.None, f, width, rows, 1f, new ReadOnlySpan<float>(weight, f * rows), rows,
                columns, width, 0f, product, width, options);
            Blas1.SwapLeadingAxes(product, f, images, count, output);
            Normalization.AddChannelBias(output, f, count, new ReadOnlySpan<float>(Bias, f));
        }

        private void RunBackward(int group, int slot, in CpuKernelOptions options)
        {
            ref readonly var g = ref plan.Geometry;
            int f = plan.Filters, rows = g.ColumnRows, count = g.ColumnCount;
            // Without a weight gradient (an input gradient alone) the input is neither unfolded nor multiplied.
            bool weights = WeightGradient != null;
            float* target = !weights || plan.Tasks == 1 ? WeightGradient : Partials + (long)group * f * rows;
            int first = group * plan.ChunksPerGroup, last = Math.Min(plan.Chunks, first + plan.ChunksPerGroup);
            for (int chunk = first; chunk < last; chunk++)
            {
                int start = chunk * plan.Chunk, images = Math.Min(plan.Chunk, plan.Images - start), width = images * count;
                var columns = new Span<float>(slots + slot * plan.SlotFloats, rows * width);
                var product = new Span<float>(slots + slot * plan.SlotFloats + plan.ColumnFloats, f * width);
                // dY as [F, images*OH*OW], the layout the forward product had.
                Blas1.SwapLeadingAxes(new ReadOnlySpan<float>(OutputGradient + (long)start * f * count, f * width), images, f, count, product);
                if (weights)
                {
                    var chunkInput = new ReadOnlySpan<float>(input + (long)start * g.ImageLength, images * g.ImageLength);
                    Im2Col.Unfold(chunkInput, g, columns, options);
                    Sgemm.Compute(Transpose.None, Transpose.Transposed, f, rows, width, 1f, product, width, columns, width,
                        chunk == first ? 0f : 1f, new Span<float>(target, f * rows), rows, options);
                }
                if (InputGradient == null) continue;
                // The columns are no longer needed: they take W^T dY, then fold into dX.
                Sgemm.Compute(Transpose.Transposed, Transpose.None, rows, width, f, 1f, new ReadOnlySpan<float>(weight, f * rows), rows,
                    product, width, 0f, columns, width, options);
                Im2Col.Fold(columns, g, new Span<float>(InputGradient + (long)start * g.ImageLength, images * g.ImageLength), options);
            }
        }
    }

    /// <summary>Runs tasks on the pool: each part claims the next unclaimed task and works in its own slot of buffers.</summary>
    private sealed class ClaimWork : KernelWork
    {
        [ThreadStatic] public static ClaimWork? Current;
        public Job Job;
        public CpuKernelOptions Options;
        public int Next;

        public override void Execute(int index, int count)
        {
            int task;
            while ((task = Interlocked.Increment(ref Next) - 1) < Job.Tasks)
                Job.Run(task, index, Options);
        }
    }
}

/// <summary>
/// Buffers <see cref="BatchConvolution"/> reuses from call to call: one chunk's columns and product per thread that
/// works at once, and the partial weight gradients of the backward pass's groups. One workspace serves one caller at a time.
/// </summary>
public sealed class ConvolutionWorkspace
{
    internal float[] Slots { get; private set; } = [];

    internal float[] Partials { get; private set; } = [];

    internal void Ensure(long slots, long partials)
    {
        if (Slots.LongLength < slots) Slots = new float[checked((int)slots)];
        if (Partials.LongLength < partials) Partials = new float[checked((int)partials)];
    }
}
