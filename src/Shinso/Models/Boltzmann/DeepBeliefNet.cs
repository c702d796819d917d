using System.Linq;
using Shinso.Backends;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Random;
using Shinso.Tensors;
using Shinso.Operations;

namespace Shinso.Models.Boltzmann;

/// <summary>
/// One directed layer of a deep belief net below the top RBM: recognition weights that infer the layer above
/// (<c>p(h = 1 | v) = sigmoid(r + v R)</c>) and generative weights that produce the layer below
/// (<c>p(v = 1 | h) = sigmoid(g + h G^T)</c>, or the Gaussian mean <c>g + h G^T</c>). Greedy training ties them
/// (both copied from one RBM); up-down fine-tuning unties them.
/// </summary>
public sealed class BeliefLayer
{
    internal BeliefLayer(IBackend backend, int belowCount, int aboveCount, VisibleUnits belowUnits)
    {
        BelowCount = belowCount;
        AboveCount = aboveCount;
        BelowUnits = belowUnits;
        RecognitionWeights = backend.Allocate(belowCount, aboveCount);
        RecognitionBias = backend.Allocate(aboveCount);
        GenerativeWeights = backend.Allocate(belowCount, aboveCount);
        GenerativeBias = backend.Allocate(belowCount);
    }

    /// <summary>Units in the layer below (the RBM's visible units).</summary>
    public int BelowCount { get; }

    /// <summary>Units in the layer above (the RBM's hidden units).</summary>
    public int AboveCount { get; }

    /// <summary>The type of the units below (Bernoulli, or Gaussian with unit variance at the bottom of the stack).</summary>
    public VisibleUnits BelowUnits { get; }

    /// <summary>R, [below, above] (up pass).</summary>
    public Tensor RecognitionWeights { get; }

    /// <summary>r, [above].</summary>
    public Tensor RecognitionBias { get; }

    /// <summary>G, [below, above], used transposed (down pass).</summary>
    public Tensor GenerativeWeights { get; }

    /// <summary>g, [below].</summary>
    public Tensor GenerativeBias { get; }

    /// <summary>Ties both directions to a trained RBM: R = G = W, r = c, g = b.</summary>
    /// <exception cref="ArgumentException">The RBM's sizes or visible unit type differ from this layer's.</exception>
    public void CopyFrom(RestrictedBoltzmannMachine rbm, int layerIndex)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        if (rbm.VisibleCount != BelowCount || rbm.HiddenCount != AboveCount)
            throw new ArgumentException($"Layer {layerIndex} of the stack is {BelowCount}x{AboveCount} but the RBM given for it is {rbm.VisibleCount}x{rbm.HiddenCount}.", nameof(rbm));
        if (rbm.Units != BelowUnits)
            throw new ArgumentException($"Layer {layerIndex} of the stack has {BelowUnits} units below but the RBM given for it has {rbm.Units} visible units.", nameof(rbm));
        if (rbm.LearnSigma)
            throw new ArgumentException($"The RBM given for layer {layerIndex} learns sigma; a deep belief net's Gaussian bottom layer has unit variance.", nameof(rbm));
        var be = rbm.Backend;
        be.Copy(rbm.Weights, RecognitionWeights);
        be.Copy(rbm.Weights, GenerativeWeights);
        be.Copy(rbm.HiddenBias, RecognitionBias);
        be.Copy(rbm.VisibleBias, GenerativeBias);
    }

    /// <summary><c>result = r + below R</c>.</summary>
    internal void UpInput(IBackend be, Tensor below, Tensor result)
    {
        be.Gemm(Transpose.None, Transpose.None, 1f, below, RecognitionWeights, 0f, result);
        be.AddRowVector(result, RecognitionBias);
    }

    /// <summary><c>result = g + above G^T</c>.</summary>
    internal void DownInput(IBackend be, Tensor above, Tensor result)
    {
        be.Gemm(Transpose.None, Transpose.Transposed, 1f, above, GenerativeWeights, 0f, result);
        be.AddRowVector(result, GenerativeBias);
    }
}

/// <summary>
/// A deep belief net (Hinton, Osindero &amp; Teh, "A fast learning algorithm for deep belief nets", Neural Computation
/// 18, 2006): directed sigmoid belief layers under an undirected top RBM (<see cref="AssociativeMemory"/>) that joins
/// the penultimate layer with softmax label units.
/// </summary>
/// <remarks>
/// <para>Layer sizes <c>[n_0, ..., n_L, n_top]</c>: <see cref="Layers"/> holds the L directed layers n_0 -&gt; n_1 ...
/// n_{L-1} -&gt; n_L, and <see cref="Top"/> the RBM over n_L penultimate units plus the labels, with n_top hidden units
/// (the paper: 784-500-500-2000 with 10 labels).</para>
/// <para>Inference is the deterministic up pass with probabilities; classification picks the label of lowest free
/// energy in the top RBM. Training: <see cref="GreedyLayerwiseTraining"/>, then <see cref="UpDownTrainer"/>, then
/// optionally <see cref="ToFeedForwardNet"/> and backprop.</para>
/// </remarks>
public sealed class DeepBeliefNet
{
    private Workspace? _workspace;
    private readonly int[] _sizes;

    /// <summary>Creates a net with small random weights (N(0, 0.01^2)) and zero biases.</summary>
    /// <param name="backend">Where the parameters live.</param>
    /// <param name="layerSizes">n_0 (the data) through n_top; at least three entries (one directed layer).</param>
    /// <param name="labelCount">Softmax label units in the top RBM.</param>
    /// <param name="bottomUnits">The data's unit type (Gaussian means unit variance: standardize the data).</param>
    /// <param name="seed">Seed of the initial weights.</param>
    /// <exception cref="ArgumentException">Fewer than three layer sizes, or a size that is not positive.</exception>
    public DeepBeliefNet(IBackend backend, IReadOnlyList<int> layerSizes, int labelCount, VisibleUnits bottomUnits = VisibleUnits.Bernoulli, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(layerSizes);
        if (layerSizes.Count < 3)
            throw new ArgumentException($"A deep belief net needs at least three layer sizes (data, penultimate, top), got [{string.Join(", ", layerSizes)}].", nameof(layerSizes));
        for (int i = 0; i < layerSizes.Count; i++)
            if (layerSizes[i] < 1) throw new ArgumentException($"Layer size {i} is {layerSizes[i]}; sizes must be positive.", nameof(layerSizes));
        Backend = backend;
        _sizes = [.. layerSizes];
        BottomUnits = bottomUnits;
        Seed = seed;
        int lower = _sizes.Length - 2;
        var layers = new BeliefLayer[lower];
        for (int l = 0; l < lower; l++)
        {
            layers[l] = new BeliefLayer(backend, _sizes[l], _sizes[l + 1], l == 0 ? bottomUnits : VisibleUnits.Bernoulli);
            backend.SampleGaussian(RandomStream.Root(seed).Derive("recognition-weights", l), 0, 0f, 0.01f, layers[l].RecognitionWeights);
            backend.Copy(layers[l].RecognitionWeights, layers[l].GenerativeWeights);
        }
        Layers = layers;
        Top = new AssociativeMemory(backend, _sizes[^2], labelCount, _sizes[^1], RandomStream.Root(seed).Derive("associative-memory"));
    }

    /// <summary>The backend holding the parameters.</summary>
    public IBackend Backend { get; }

    /// <summary>n_0 .. n_top.</summary>
    public IReadOnlyList<int> LayerSizes => _sizes;

    /// <summary>Data units.</summary>
    public int VisibleCount => _sizes[0];

    /// <summary>Label units.</summary>
    public int LabelCount => Top.LabelCount;

    /// <summary>The unit type of the data layer.</summary>
    public VisibleUnits BottomUnits { get; }

    /// <summary>The seed of the initial weights.</summary>
    public ulong Seed { get; }

    /// <summary>The directed layers, bottom first.</summary>
    public IReadOnlyList<BeliefLayer> Layers { get; }

    /// <summary>The top RBM with the label units.</summary>
    public AssociativeMemory Top { get; }

    /// <summary>
    /// Checks host data for this net: a whole number of samples, finite, and within [0, 1] for Bernoulli data units.
    /// </summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names its sample and feature.</exception>
    public void ValidateData(ReadOnlySpan<float> data, string parameterName = "data")
    {
        if (data.Length % VisibleCount != 0)
            throw new ArgumentException($"{data.Length} values are not a whole number of samples of {VisibleCount} data units.", parameterName);
        bool bernoulli = BottomUnits == VisibleUnits.Bernoulli;
        for (int i = 0; i < data.Length; i++)
        {
            float x = data[i];
            if (bernoulli ? x >= 0f && x <= 1f : float.IsFinite(x)) continue;
            throw new ArgumentException(
                $"Value {x} at index {i} (sample {i / VisibleCount}, feature {i % VisibleCount}) is outside " +
                (bernoulli ? "the range [0, 1] expected for the Bernoulli data units of a deep belief net." : "the finite range expected for Gaussian data units."),
                parameterName);
        }
    }

    /// <summary>
    /// The deterministic up pass: <paramref name="data"/> [N, n_0] through the recognition weights to the
    /// penultimate probabilities, returned in a scratch tensor [N, n_L] (valid until the next call with N rows).
    /// </summary>
    public Tensor Penultimate(Tensor data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Columns != VisibleCount)
            throw new ArgumentException($"data has shape {Tensor.ShapeText(data.Shape)}; expected [N, {VisibleCount}].", nameof(data));
        var x = data;
        for (int l = 0; l < Layers.Count; l++)
        {
            var y = Workspace.Get("up-pass", l, data.Rows, Layers[l].AboveCount);
            Layers[l].UpInput(Backend, x, y);
            Backend.Activate(Activation.Sigmoid, y, y);
            x = y;
        }
        return x;
    }

    /// <summary>Predicted labels of host samples (row-major, <c>N x n_0</c>): the label of lowest free energy in the top RBM.</summary>
    /// <exception cref="ArgumentException">The data is not a whole number of valid samples.</exception>
    public int[] Classify(ReadOnlySpan<float> data, int batchSize = 500)
    {
        var scores = Scores(data, batchSize);
        var predictions = new int[scores.Length / LabelCount];
        for (int i = 0; i < predictions.Length; i++) predictions[i] = Best(scores.AsSpan(i * LabelCount, LabelCount));
        return predictions;
    }

    /// <summary>
    /// The label probabilities of host samples (row-major, <c>N x n_0</c>) after the deterministic up pass:
    /// <c>p(k | x) = softmax_k(-F(p(x), k))</c>, the free energies of the labels in the top RBM (see
    /// <see cref="AssociativeMemory.LabelScores"/>). <see cref="Classify"/> picks the most probable label.
    /// </summary>
    /// <returns>Row-major <c>N x</c> <see cref="LabelCount"/> probabilities; each row sums to 1.</returns>
    /// <exception cref="ArgumentException">The data is not a whole number of valid samples.</exception>
    public float[] LabelProbabilities(ReadOnlySpan<float> data, int batchSize = 500)
    {
        var scores = Scores(data, batchSize);
        var probabilities = new float[scores.Length];
        for (int i = 0; i < scores.Length / LabelCount; i++)
        {
            var row = scores.AsSpan(i * LabelCount, LabelCount);
            double logSum = LogSumExp(row);
            for (int k = 0; k < LabelCount; k++) probabilities[i * LabelCount + k] = (float)Math.Exp(row[k] - logSum);
        }
        return probabilities;
    }

    /// <summary>
    /// The mean cross-entropy <c>-log p(y | x)</c> of <paramref name="data"/>'s labels under <see cref="LabelProbabilities"/>
    /// (in double, from the free energies) and the fraction <see cref="Classify"/> labels correctly: how well the generative
    /// model classifies, the figure a DBN run's validation rows report after the top RBM's and the up-down epochs.
    /// </summary>
    /// <exception cref="ArgumentException">The data does not fit the net.</exception>
    public Training.Evaluation Evaluate(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureCount != VisibleCount)
            throw new ArgumentException($"The data has {data.FeatureCount} features but the net has {VisibleCount} data units.", nameof(data));
        if (data.ClassCount != LabelCount)
            throw new ArgumentException($"The data has {data.ClassCount} classes but the net has {LabelCount} label units.", nameof(data));
        if (data.Count == 0) return new Training.Evaluation(double.NaN, double.NaN);
        var scores = Scores(data.Features, 500);
        double loss = 0;
        int correct = 0;
        for (int i = 0; i < data.Count; i++)
        {
            var row = scores.AsSpan(i * LabelCount, LabelCount);
            int label = data.Labels[i];
            if (Best(row) == label) correct++;
            loss += LogSumExp(row) - row[label];
        }
        return new Training.Evaluation(loss / data.Count, (double)correct / data.Count);
    }

    /// <summary>Each sample's label scores (row-major <c>N x</c> <see cref="LabelCount"/>, see <see cref="AssociativeMemory.LabelScores"/>).</summary>
    private float[] Scores(ReadOnlySpan<float> data, int batchSize)
    {
        ValidateData(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        int n = data.Length / VisibleCount, labels = LabelCount;
        var result = new float[n * labels];
        var host = new float[labels * Math.Min(batchSize, Math.Max(n, 1))];
        for (int start = 0; start < n; start += batchSize)
        {
            int rows = Math.Min(batchSize, n - start);
            var batch = Workspace.Get("classify-batch", rows, VisibleCount);
            Backend.Upload(data.Slice(start * VisibleCount, rows * VisibleCount), batch);
            var s = Workspace.Get("label-scores", labels, rows);
            Top.LabelScores(Penultimate(batch), s);
            var block = host.AsSpan(0, labels * rows);
            Backend.Download(s, block);
            // The scores come label-major for the batch: rows of the result are samples.
            for (int i = 0; i < rows; i++)
                for (int k = 0; k < labels; k++) result[(start + i) * labels + k] = block[k * rows + i];
        }
        return result;
    }

    /// <summary>The first label of highest score.</summary>
    private static int Best(ReadOnlySpan<float> scores)
    {
        int best = 0;
        for (int k = 1; k < scores.Length; k++) if (scores[k] > scores[best]) best = k;
        return best;
    }

    /// <summary><c>log Σ_k exp(s_k)</c> in double; the scores are -F up to a term shared by all labels, which it carries along.</summary>
    private static double LogSumExp(ReadOnlySpan<float> scores)
    {
        double max = double.NegativeInfinity, sum = 0;
        foreach (float v in scores) max = Math.Max(max, v);
        foreach (float v in scores) sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }

    /// <summary>The fraction of <paramref name="data"/>'s samples that <see cref="Classify"/> labels correctly.</summary>
    public double Accuracy(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureCount != VisibleCount)
            throw new ArgumentException($"The data has {data.FeatureCount} features but the net has {VisibleCount} data units.", nameof(data));
        var predicted = Classify(data.Features);
        int correct = 0;
        for (int i = 0; i < predicted.Length; i++) if (predicted[i] == data.Labels[i]) correct++;
        return predicted.Length == 0 ? double.NaN : (double)correct / predicted.Length;
    }

    /// <summary>
    /// Generates <paramref name="count"/> samples of class <paramref name="label"/>: the label is clamped while
    /// alternating Gibbs sampling runs <paramref name="gibbsSteps"/> steps in the top RBM (penultimate units started
    /// from <c>p = sigmoid(a)</c>), then one down pass through the generative weights, with probabilities (the
    /// conditional means) at the bottom.
    /// </summary>
    /// <returns>Host data, <c>count x n_0</c> row-major.</returns>
    public float[] Generate(int label, int count, int gibbsSteps, RandomStream stream, ulong counter = 0)
    {
        if ((uint)label >= (uint)LabelCount) throw new ArgumentOutOfRangeException(nameof(label), label, $"must be in [0, {LabelCount}).");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegative(gibbsSteps);
        var be = Backend;
        var labels = Workspace.Get("generate-labels", count, LabelCount);
        var oneHot = new float[count * LabelCount];
        for (int i = 0; i < count; i++) oneHot[i * LabelCount + label] = 1f;
        be.Upload(oneHot, labels);
        var pen = Workspace.Get("generate-penultimate", count, Top.PenultimateCount);
        var penProb = Workspace.Get("generate-penultimate-probabilities", count, Top.PenultimateCount);
        var top = Workspace.Get("generate-top", count, Top.TopCount);
        var topProb = Workspace.Get("generate-top-probabilities", count, Top.TopCount);
        be.Fill(penProb, 0f);
        be.AddRowVector(penProb, Top.PenultimateBias);
        counter = SampleSigmoid(penProb, pen, stream, counter);
        for (int s = 0; s < gibbsSteps; s++)
        {
            Top.TopInput(pen, labels, topProb);
            counter = SampleSigmoid(topProb, top, stream, counter);
            Top.PenultimateInput(top, penProb);
            counter = SampleSigmoid(penProb, pen, stream, counter);
        }
        var bottom = Down(pen, stream, counter);
        var result = new float[count * VisibleCount];
        be.Download(bottom, result);
        return result;
    }

    /// <summary>
    /// The stochastic down pass from penultimate states: binary samples at every layer above the data, the
    /// conditional mean at the data layer. Returns a scratch tensor [N, n_0].
    /// </summary>
    internal Tensor Down(Tensor penultimate, RandomStream stream, ulong counter)
    {
        var x = penultimate;
        for (int l = Layers.Count - 1; l >= 0; l--)
        {
            var layer = Layers[l];
            var mean = Workspace.Get("down-pass-mean", l, x.Rows, layer.BelowCount);
            layer.DownInput(Backend, x, mean);
            if (l == 0)
            {
                if (layer.BelowUnits == VisibleUnits.Bernoulli) Backend.Activate(Activation.Sigmoid, mean, mean);
                return mean;
            }
            var sample = Workspace.Get("down-pass-sample", l, x.Rows, layer.BelowCount);
            counter = SampleSigmoid(mean, sample, stream, counter);
            x = sample;
        }
        return x;
    }

    private ulong SampleSigmoid(Tensor preActivation, Tensor samples, RandomStream stream, ulong counter)
    {
        Backend.SigmoidBernoulli(stream, counter, preActivation, preActivation, samples);
        return counter + RestrictedBoltzmannMachine.BlocksFor(samples.Length);
    }

    /// <summary>
    /// The recognition stack as a discriminative net (Hinton &amp; Salakhutdinov 2006): one dense + sigmoid layer per
    /// directed layer (R, r), one for the top RBM's penultimate-to-top weights (P, c), and a fresh dense layer of
    /// <see cref="LabelCount"/> units (small Gaussian weights from <paramref name="seed"/>) under softmax cross-entropy.
    /// </summary>
    /// <param name="seed">Seed of the net's initial weights (only the fresh output layer keeps them); the dropout masks come from
    /// the training run's seed.</param>
    /// <param name="hiddenDropout">Dropout rate after every sigmoid layer during fine-tuning (Hinton et al. 2012 fine-tune
    /// pretrained DBNs with dropout); 0 for none.</param>
    /// <param name="inputDropout">Dropout rate on the data units during fine-tuning; 0 for none.</param>
    /// <param name="outputFromLabels">
    /// Start the output layer from the top RBM's label weights and biases instead of fresh small weights: the net then
    /// begins as a deterministic approximation of the DBN's <c>p(label | top units)</c>, with the top units at their
    /// up-pass probabilities, so backprop refines the generative model's classifier rather than learning one anew
    /// (on Fashion-MNIST the converted 784-500-500-2000 net starts at 79 % and ends 0.5-0.7 points higher).
    /// </param>
    public FeedForwardNet ToFeedForwardNet(ulong seed, float hiddenDropout = 0f, float inputDropout = 0f, bool outputFromLabels = false)
    {
        if (!(hiddenDropout >= 0f && hiddenDropout < 1f)) throw new ArgumentOutOfRangeException(nameof(hiddenDropout), hiddenDropout, "must be in [0, 1).");
        if (!(inputDropout >= 0f && inputDropout < 1f)) throw new ArgumentOutOfRangeException(nameof(inputDropout), inputDropout, "must be in [0, 1).");
        var layers = new List<LayerSpec>();
        if (inputDropout > 0f) layers.Add(LayerSpec.Dropout(inputDropout));
        void Hidden(int units)
        {
            layers.AddRange([LayerSpec.Dense(units), LayerSpec.Of("sigmoid")]);
            if (hiddenDropout > 0f) layers.Add(LayerSpec.Dropout(hiddenDropout));
        }
        foreach (var l in Layers) Hidden(l.AboveCount);
        Hidden(Top.TopCount);
        layers.Add(LayerSpec.Dense(LabelCount));
        var net = new FeedForwardNet(Backend, new FeedForwardSpec([VisibleCount], layers, "softmax-cross-entropy"), seed);
        var dense = net.Layers.OfType<Dense>().ToArray();
        for (int l = 0; l < Layers.Count; l++)
        {
            Backend.Copy(Layers[l].RecognitionWeights, dense[l].Weight.Value);
            Backend.Copy(Layers[l].RecognitionBias, dense[l].Bias.Value);
        }
        Backend.Copy(Top.PenultimateWeights, dense[Layers.Count].Weight.Value);
        Backend.Copy(Top.TopBias, dense[Layers.Count].Bias.Value);
        if (outputFromLabels)
        {
            // U is [labels, top]; the dense layer wants its transpose, [top, labels].
            var output = dense[Layers.Count + 1];
            Backend.SwapLeadingAxes(Top.LabelWeights, LabelCount, Top.TopCount, output.Weight.Value);
            Backend.Copy(Top.LabelBias, output.Bias.Value);
        }
        return net;
    }

    /// <summary>The model's scratch tensors, by purpose.</summary>
    internal Workspace Workspace => _workspace ??= new Workspace(Backend);
}
