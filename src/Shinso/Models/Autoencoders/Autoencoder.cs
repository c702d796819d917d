using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Tensors;

namespace Shinso.Models.Autoencoders;

/// <summary>
/// An autoencoder is a <see cref="FeedForwardNet"/> trained to reproduce its input, with a <see cref="CodeSpec"/> layer
/// marking its code (<c>h = f(W x)</c>, <c>y = f'(W' h)</c>; tied weights, sparsity and input noise are layers). This
/// class reads such a net: its encoder and decoder as nets of their own, its codes, and its reconstruction error.
/// </summary>
public static class Autoencoder
{
    /// <summary>The kind of an autoencoder's model file.</summary>
    public const string FileKind = FeedForwardModelFile.AutoencoderKind;

    /// <summary>
    /// The index of the first value outside [0, 1] (or NaN), or -1: a cross-entropy reconstruction, and an RBM's Bernoulli
    /// visible units, need every input in [0, 1].
    /// </summary>
    public static int FirstOutsideUnitInterval(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!(values[i] >= 0f && values[i] <= 1f)) return i;
        return -1;
    }

    /// <summary>The index of <paramref name="net"/>'s code layer.</summary>
    /// <exception cref="ArgumentException">The net has no code layer.</exception>
    public static int CodeIndex(FeedForwardNet net)
    {
        ArgumentNullException.ThrowIfNull(net);
        int code = net.Spec.CodeIndex;
        return code >= 0 ? code : throw new ArgumentException("The net has no 'code' layer, so it has no encoder and decoder.", nameof(net));
    }

    /// <summary>Values per code.</summary>
    public static int CodeLength(FeedForwardNet net)
    {
        int code = CodeIndex(net);
        if (code == 0) return net.Spec.InputLength;
        int n = 1;
        foreach (int d in net.Spec.SampleShapes()[code - 1]) n *= d;
        return n;
    }

    /// <summary>
    /// The encoder, input to code, as a net of its own (squared-error, so that its predictions are the code itself);
    /// its parameters are copies of <paramref name="net"/>'s.
    /// </summary>
    public static FeedForwardNet Encoder(FeedForwardNet net) => Part(net, 0, CodeIndex(net), "squared-error");

    /// <summary>
    /// The decoder, code to reconstruction, as a net of its own with the autoencoder's loss (so its predictions are the
    /// reconstruction); a layer tied to an encoder layer becomes a dense layer holding the transposed weight.
    /// </summary>
    public static FeedForwardNet Decoder(FeedForwardNet net)
    {
        int code = CodeIndex(net);
        return Part(net, code + 1, net.Layers.Count, net.Spec.Loss);
    }

    /// <summary>
    /// The mean over the samples of the squared error summed over each sample's values between <paramref name="inputs"/>
    /// and <paramref name="net"/>'s reconstructions (inference pass: no noise): Hinton &amp; Salakhutdinov's measure.
    /// </summary>
    public static double ReconstructionError(FeedForwardNet net, ReadOnlySpan<float> inputs, int batchSize = 500)
    {
        ArgumentNullException.ThrowIfNull(net);
        if (net.Spec.OutputLength != net.Spec.InputLength)
            throw new ArgumentException($"A reconstruction has as many values as the input; the net maps {net.Spec.InputLength} inputs to {net.Spec.OutputLength} outputs.", nameof(net));
        double sum = 0;
        int features = net.Spec.InputLength;
        Predictions(net, inputs, batchSize, (row, reconstruction) =>
        {
            double e = 0;
            for (int j = 0; j < features; j++)
            {
                double d = row[j] - reconstruction[j];
                e += d * d;
            }
            sum += e;
        });
        return sum / Math.Max(1, inputs.Length / features);
    }

    /// <summary><paramref name="net"/>'s predictions for every row of <paramref name="inputs"/> (reconstructions for an autoencoder, codes for an encoder).</summary>
    public static float[] Predict(FeedForwardNet net, ReadOnlySpan<float> inputs, int batchSize = 500)
    {
        int outputs = net.Spec.OutputLength;
        var result = new float[inputs.Length / net.Spec.InputLength * outputs];
        int row = 0;
        Predictions(net, inputs, batchSize, (_, prediction) => prediction.CopyTo(result.AsSpan(row++ * outputs, outputs)));
        return result;
    }

    private delegate void RowVisitor(ReadOnlySpan<float> input, ReadOnlySpan<float> prediction);

    private static void Predictions(FeedForwardNet net, ReadOnlySpan<float> inputs, int batchSize, RowVisitor visit)
    {
        ArgumentNullException.ThrowIfNull(net);
        int features = net.Spec.InputLength, outputs = net.Spec.OutputLength;
        if (inputs.Length % features != 0) throw new ArgumentException($"{inputs.Length} values are not whole rows of {features}.", nameof(inputs));
        int n = inputs.Length / features;
        if (n == 0) return;
        int batch = Math.Clamp(batchSize, 1, n);
        var x = net.Backend.Allocate(batch, features);
        var host = new float[batch * outputs];
        for (int start = 0; start < n; start += batch)
        {
            int rows = Math.Min(batch, n - start);
            var xs = x.SliceRows(0, rows);
            net.Backend.Upload(inputs.Slice(start * features, rows * features), xs);
            var y = net.Predict(xs);
            net.Backend.Download(y, host.AsSpan(0, rows * outputs));
            for (int r = 0; r < rows; r++) visit(inputs.Slice((start + r) * features, features), host.AsSpan(r * outputs, outputs));
        }
    }

    /// <summary>Layers [from, to) of <paramref name="net"/> as a net of their own, parameters copied.</summary>
    private static FeedForwardNet Part(FeedForwardNet net, int from, int to, string loss)
    {
        var shapes = net.Spec.SampleShapes();
        int[] input = from == 0 ? net.Spec.InputShape : shapes[from - 1];
        var layers = new List<LayerSpec>();
        for (int i = from; i < to; i++)
        {
            var spec = net.Spec.Layers[i];
            layers.Add(spec switch
            {
                TiedSpec t when t.To < from => new DenseSpec(Product(shapes[i])),
                TiedSpec t => new TiedSpec(t.To - from),
                _ => spec,
            });
        }
        if (!layers.Exists(l => l is DenseSpec))
            throw new ArgumentException($"Layers {from} to {to - 1} hold no dense layer, so they make no net of their own.", nameof(net));
        var part = new FeedForwardNet(net.Backend, new FeedForwardSpec(input, layers, loss), net.Seed);
        for (int i = from; i < to; i++)
        {
            var source = net.Layers[i];
            var target = part.Layers[i - from];
            if (source is TiedDense tied && target is Dense dense)
            {
                net.Backend.Upload(InferenceForms.HostTransposed(tied.Weight.Value), dense.Weight.Value);
                net.Backend.Copy(tied.Bias.Value, dense.Bias.Value);
                continue;
            }
            for (int k = 0; k < source.Parameters.Count; k++) net.Backend.Copy(source.Parameters[k].Value, target.Parameters[k].Value);
        }
        return part;
    }

    private static int Product(int[] shape)
    {
        int n = 1;
        foreach (int d in shape) n *= d;
        return n;
    }
}
