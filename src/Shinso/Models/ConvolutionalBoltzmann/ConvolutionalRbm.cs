using Shinso.Backends;
using Shinso.Models.Boltzmann;
using Shinso.Operations;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Models.ConvolutionalBoltzmann;

/// <summary>
/// A convolutional RBM with probabilistic max-pooling (Lee, Grosse, Ranganath &amp; Ng, ICML 2009): K groups of hidden
/// detection maps, group k sharing one N x N filter <c>W^k</c> (over every visible channel) and one bias <c>b_k</c> across the
/// image; each B x B block of a group's detection units and its pooling unit form a multinomial (at most one detection unit on,
/// the pooling unit on when one is). Visible units are Bernoulli or unit-variance Gaussian, with one bias per channel.
/// </summary>
/// <remarks>
/// <para>Detection inputs are <c>I^k = b_k + W^k ⋆ v</c> (valid cross-correlation: the backend's convolution pass), the visible
/// drive is <c>c + sum_k W^k * h^k</c> (full convolution: the transposed GEMM and col2im), and the probabilities and samples of
/// the blocks are the backend's probabilistic max-pooling, so the model has no per-pixel loops and runs on either backend.</para>
/// <para>Weights are <c>[K, C*N*N]</c>, each row one group's filter in the convolution's (c, row, column) order.</para>
/// </remarks>
public sealed class ConvolutionalRbm
{
    /// <summary>
    /// Creates a machine with weights drawn from N(0, <paramref name="initialSigma"/>²) and zero biases; the weights come from
    /// <paramref name="weightStream"/>, or <c>Root(seed).Derive("conv-rbm-weights")</c> when it is null.
    /// </summary>
    /// <exception cref="ArgumentException">A size is not positive, the filter is larger than the image, or the block does not divide the detection maps.</exception>
    public ConvolutionalRbm(IBackend backend, int channels, int height, int width, int groups, int filter, int block, VisibleUnits visible = VisibleUnits.Bernoulli,
        ulong seed = 1, float initialSigma = 0.01f, RandomStream? weightStream = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (groups < 1) throw new ArgumentException($"A convolutional RBM needs at least one group, got {groups}.", nameof(groups));
        if (filter > height || filter > width) throw new ArgumentException($"The {filter} x {filter} filter is larger than the {height} x {width} image.", nameof(filter));
        Geometry = new ConvolutionGeometry(channels, height, width, filter, filter);
        Geometry.Validate();
        OperationArguments.ProbabilisticPooling((long)groups * Geometry.ColumnCount,
            (long)groups * (Geometry.OutputHeight / Math.Max(1, block)) * (Geometry.OutputWidth / Math.Max(1, block)), groups, Geometry.OutputHeight, Geometry.OutputWidth, block);
        Backend = backend;
        Groups = groups;
        Block = block;
        Visible = visible;
        Weights = backend.Allocate(groups, Geometry.ColumnRows);
        HiddenBias = backend.Allocate(groups);
        VisibleBias = backend.Allocate(channels);
        backend.SampleGaussian(weightStream ?? RandomStream.Root(seed).Derive("conv-rbm-weights"), 0, 0f, initialSigma, Weights);
        Workspace = new Workspace(backend);
    }

    /// <summary>Where the parameters live and the passes run.</summary>
    public IBackend Backend { get; }

    /// <summary>The visible image and the filter: channels, height, width, filter size (stride 1, no padding).</summary>
    public ConvolutionGeometry Geometry { get; }

    /// <summary>K, the groups of detection maps.</summary>
    public int Groups { get; }

    /// <summary>B, the side of a pooling block.</summary>
    public int Block { get; }

    /// <summary>Bernoulli or Gaussian visible units.</summary>
    public VisibleUnits Visible { get; }

    /// <summary>W, <c>[K, C*N*N]</c>.</summary>
    public Tensor Weights { get; }

    /// <summary>b, one per group.</summary>
    public Tensor HiddenBias { get; }

    /// <summary>c, one per visible channel.</summary>
    public Tensor VisibleBias { get; }

    /// <summary>Scratch tensors of the passes.</summary>
    public Workspace Workspace { get; }

    /// <summary>Values per visible image, <c>C*H*W</c>.</summary>
    public int VisibleLength => Geometry.ImageLength;

    /// <summary>Detection units per image, <c>K*OH*OW</c>.</summary>
    public int DetectionLength => Groups * Geometry.ColumnCount;

    /// <summary>Pooling units per image, <c>K*(OH/B)*(OW/B)</c>.</summary>
    public int PoolLength => Groups * PoolHeight * PoolWidth;

    /// <summary>Rows of a pooled map.</summary>
    public int PoolHeight => Geometry.OutputHeight / Block;

    /// <summary>Columns of a pooled map.</summary>
    public int PoolWidth => Geometry.OutputWidth / Block;

    /// <summary>The per-sample shape of the pooling layer, <c>[K, OH/B, OW/B]</c> (the visible layer of the next machine in a stack).</summary>
    public int[] PoolShape => [Groups, PoolHeight, PoolWidth];

    /// <summary>Philox blocks one sampling of the blocks of <paramref name="images"/> images draws.</summary>
    public ulong PoolBlocksFor(int images) => (ulong)(((long)images * PoolLength + 3) / 4);

    /// <summary><c>input[n, k] = b_k + W^k ⋆ v[n]</c> for visible images <c>[N, C*H*W]</c>; <paramref name="input"/> is <c>[N, K*OH*OW]</c>.</summary>
    public void DetectionInput(Tensor visible, Tensor input) =>
        Backend.ConvolutionForward(visible, Geometry, Weights, HiddenBias, input.Reshape(visible.Rows, Groups, Geometry.OutputHeight, Geometry.OutputWidth));

    /// <summary>The detection and pooling probabilities given visible images: <paramref name="hidden"/> <c>[N, K*OH*OW]</c>, <paramref name="pool"/> <c>[N, K*(OH/B)*(OW/B)]</c>.</summary>
    public void HiddenProbabilities(Tensor visible, Tensor hidden, Tensor pool)
    {
        var input = Workspace.Get("detection-input", visible.Rows, DetectionLength);
        DetectionInput(visible, input);
        Backend.ProbabilisticMaxPool(input, Groups, Geometry.OutputHeight, Geometry.OutputWidth, Block, hidden, pool);
    }

    /// <summary>Samples the blocks from <paramref name="hidden"/> probabilities (Philox blocks <c>counter ..</c> of <paramref name="stream"/>).</summary>
    public void SampleHidden(RandomStream stream, ulong counter, Tensor hidden, Tensor hiddenSamples, Tensor poolSamples) =>
        Backend.SampleProbabilisticMaxPool(stream, counter, hidden, Groups, Geometry.OutputHeight, Geometry.OutputWidth, Block, hiddenSamples, poolSamples);

    /// <summary>
    /// <c>E[v | h]</c>: <c>c + sum_k W^k * h^k</c> (full convolution), through a sigmoid for Bernoulli units; <paramref name="hidden"/>
    /// <c>[N, K*OH*OW]</c>, <paramref name="mean"/> <c>[N, C*H*W]</c>.
    /// </summary>
    public void VisibleMean(Tensor hidden, Tensor mean)
    {
        int n = hidden.Rows, width = n * Geometry.ColumnCount;
        var byGroup = Workspace.Get("hidden-by-group", Groups, width);
        Backend.SwapLeadingAxes(hidden, n, Groups, byGroup);
        var columns = Workspace.Get("visible-columns", Geometry.ColumnRows, width);
        Backend.Gemm(Transpose.Transposed, Transpose.None, 1f, Weights, byGroup, 0f, columns);
        Backend.Col2Im(columns, Geometry, mean);
        Backend.AddChannelBias(mean, Geometry.Channels, VisibleBias);
        if (Visible == VisibleUnits.Bernoulli) Backend.Activate(Activation.Sigmoid, mean, mean);
    }

    /// <summary>A visible sample given its mean: Bernoulli draws, or the mean plus unit Gaussian noise; draws <c>ceil(length / 4)</c> Philox blocks from <paramref name="counter"/>.</summary>
    public void SampleVisible(RandomStream stream, ulong counter, Tensor mean, Tensor sample)
    {
        if (Visible == VisibleUnits.Bernoulli) Backend.SampleBernoulli(stream, counter, mean, sample);
        else
        {
            Backend.SampleGaussian(stream, counter, 0f, 1f, sample);
            Backend.Axpy(1f, mean, sample);
        }
    }

    /// <summary>Philox blocks <see cref="SampleVisible"/> draws for <paramref name="images"/> images.</summary>
    public ulong VisibleBlocksFor(int images) => RestrictedBoltzmannMachine.BlocksFor(images * VisibleLength);

    /// <summary>
    /// The sufficient statistics of a batch, summed over it: <paramref name="weights"/> <c>[K, C*N*N]</c> gets <c>sum_n v_n ⋆ h^k_n</c> (the
    /// correlation of each image with each group's detection map: the convolution's weight gradient for output gradient h),
    /// <paramref name="hiddenBias"/> <c>sum_n sum_ij h^k_n,ij</c> and <paramref name="visibleBias"/> the sum of each channel's values.
    /// </summary>
    public void Statistics(Tensor visible, Tensor hidden, Tensor weights, Tensor hiddenBias, Tensor visibleBias)
    {
        int n = visible.Rows;
        Backend.ConvolutionBackward(visible, Geometry, Weights, hidden.Reshape(n, Groups, Geometry.OutputHeight, Geometry.OutputWidth), weights, hiddenBias, null);
        Backend.SumChannelBias(visible, Geometry.Channels, visibleBias);
    }

    /// <summary>
    /// <paramref name="count"/> samples after <paramref name="steps"/> block-Gibbs sweeps (hidden blocks, then visible units) from
    /// <paramref name="starts"/> (<c>count</c> visible images); returns the visible means of the last sweep, <c>[count, C*H*W]</c>.
    /// </summary>
    public float[] GibbsSamples(ReadOnlySpan<float> starts, int count, int steps, RandomStream stream)
    {
        if (starts.Length != (long)count * VisibleLength) throw new ArgumentException($"starts has {starts.Length} values, not {count} images of {VisibleLength}.", nameof(starts));
        var v = Backend.Allocate(count, VisibleLength);
        var mean = Backend.Allocate(count, VisibleLength);
        var hidden = Backend.Allocate(count, DetectionLength);
        var pool = Backend.Allocate(count, PoolLength);
        var hiddenSample = Backend.Allocate(count, DetectionLength);
        var poolSample = Backend.Allocate(count, PoolLength);
        Backend.Upload(starts, v);
        ulong counter = 0;
        for (int s = 0; s < Math.Max(1, steps); s++)
        {
            HiddenProbabilities(v, hidden, pool);
            SampleHidden(stream, counter, hidden, hiddenSample, poolSample);
            counter += PoolBlocksFor(count);
            VisibleMean(hiddenSample, mean);
            SampleVisible(stream, counter, mean, v);
            counter += VisibleBlocksFor(count);
        }
        var result = new float[(long)count * VisibleLength];
        Backend.Download(mean, result);
        return result;
    }

    /// <summary>Throws unless every value suits the visible units (finite; in [0, 1] for Bernoulli units).</summary>
    public void ValidateData(ReadOnlySpan<float> data, string argument)
    {
        for (int i = 0; i < data.Length; i++)
        {
            float x = data[i];
            if (!float.IsFinite(x) || (Visible == VisibleUnits.Bernoulli && (x < 0f || x > 1f)))
                throw new ArgumentException($"Value {x} at index {i} is not {(Visible == VisibleUnits.Bernoulli ? "in [0, 1] for Bernoulli visible units" : "finite")}.", argument);
        }
    }
}
