using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Tensors;

namespace Shinso.Models.DeepBoltzmann;

/// <summary>
/// Discriminative fine-tuning of a DBM (Salakhutdinov &amp; Hinton 2009, section 5 and Fig. 5): the machine is unrolled into a
/// sigmoid net whose first hidden layer takes, beside the pixels, the mean-field marginals <c>q(h2 | v)</c> of the layer above it
/// as a second, fixed input, so that the net starts from the DBM's own conditional <c>sigmoid(v W_0 + q(h2) W_1^T + b_1)</c>; the
/// layers above follow the machine (<c>sigmoid(h_(k-1) W_(k-1) + b_k)</c>) and a softmax output layer is added.
/// </summary>
/// <remarks>
/// For a 2-layer DBM this is the paper's net exactly (the top layer's only neighbour is h1). For deeper machines Shinso gives the first
/// hidden layer the marginals of the second (its upper neighbour) and drops the top-down input of the middle layers, which the
/// unrolled chain has no place for.
/// <para>For a machine with label units the marginals come from mean-field with the labels inferred (the labels of the data to be
/// classified are not known), so <c>q(h2)</c> carries the inferred labels' influence (directly in a 2-layer machine, through the top
/// layer in deeper ones); the net's own layers do not read the label weights, and its fresh output layer learns the classes.</para>
/// </remarks>
public static class DbmFineTuning
{
    /// <summary>
    /// The fine-tuned net's inputs: each sample's pixels followed by its mean-field marginals of the second hidden layer
    /// (<paramref name="options"/>, the paper's test-time setting by default), labels kept.
    /// </summary>
    public static Dataset AugmentedInputs(DeepBoltzmannMachine dbm, Dataset data, DbmMeanFieldOptions? options = null, int batchSize = 1000)
    {
        ArgumentNullException.ThrowIfNull(dbm);
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureCount != dbm.VisibleCount)
            throw new ArgumentException($"The data has {data.FeatureCount} features but the DBM has {dbm.VisibleCount} visible units.", nameof(data));
        options ??= DbmMeanFieldOptions.TestTime;
        var be = dbm.Backend;
        int nv = dbm.VisibleCount, extra = dbm.LayerSizes[2], width = nv + extra;
        var features = new float[checked(data.Count * width)];
        var host = new float[batchSize * extra];
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int rows = Math.Min(batchSize, data.Count - start);
            var v = dbm.Workspace.Get("fine-tuning-visible", rows, nv);
            var means = new Tensor[dbm.HiddenLayerCount];
            for (int k = 0; k < means.Length; k++) means[k] = dbm.Workspace.Get("fine-tuning-means", k, rows, dbm.LayerSizes[k + 1]);
            be.Upload(data.Features.AsSpan(start * nv, rows * nv), v);
            dbm.MeanField(v, means, options);
            be.Download(means[1], host.AsSpan(0, rows * extra));
            for (int r = 0; r < rows; r++)
            {
                data.Features.AsSpan((start + r) * nv, nv).CopyTo(features.AsSpan((start + r) * width));
                host.AsSpan(r * extra, extra).CopyTo(features.AsSpan((start + r) * width + nv));
            }
        }
        return new Dataset(features, data.Labels, data.ClassCount, width);
    }

    /// <summary>
    /// The unrolled net on <see cref="AugmentedInputs"/>: dense layers initialised from the machine (the first one's weights are
    /// <c>[W_0; W_1^T]</c>), sigmoid units, dropout <paramref name="hiddenDropout"/> after each hidden layer, and a fresh
    /// <paramref name="classes"/>-way output layer from <paramref name="seed"/>.
    /// </summary>
    public static FeedForwardNet ToFeedForwardNet(DeepBoltzmannMachine dbm, int classes, ulong seed, float hiddenDropout = 0f)
    {
        ArgumentNullException.ThrowIfNull(dbm);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        if (!(hiddenDropout >= 0f && hiddenDropout < 1f)) throw new ArgumentOutOfRangeException(nameof(hiddenDropout), hiddenDropout, "must be in [0, 1).");
        var be = dbm.Backend;
        var sizes = dbm.LayerSizes;
        var layers = new List<LayerSpec>();
        for (int k = 1; k < sizes.Count; k++)
        {
            layers.AddRange([LayerSpec.Dense(sizes[k]), LayerSpec.Of("sigmoid")]);
            if (hiddenDropout > 0f) layers.Add(LayerSpec.Dropout(hiddenDropout));
        }
        layers.Add(LayerSpec.Dense(classes));
        int nv = sizes[0], extra = sizes[2];
        var net = new FeedForwardNet(be, new FeedForwardSpec([nv + extra], layers, "softmax-cross-entropy"), seed);
        var dense = net.Layers.OfType<Dense>().ToArray();
        be.Copy(dbm.Weights[0], dense[0].Weight.Value.SliceRows(0, nv));
        // W_1 is [n1, n2]; the first layer's rows for q(h2) want its transpose, [n2, n1].
        be.SwapLeadingAxes(dbm.Weights[1], sizes[1], sizes[2], dense[0].Weight.Value.SliceRows(nv, extra));
        be.Copy(dbm.Biases[1], dense[0].Bias.Value);
        for (int k = 1; k < sizes.Count - 1; k++)
        {
            be.Copy(dbm.Weights[k], dense[k].Weight.Value);
            be.Copy(dbm.Biases[k + 1], dense[k].Bias.Value);
        }
        return net;
    }
}
