using System.Text.Json.Nodes;
using Shinso.Layers;
using Shinso.Models.Autoencoders;
using Shinso.Models.Boltzmann;
using Shinso.Models.FeedForward;

namespace Shinso.Onnx;

/// <summary>
/// A model's deterministic feed-forward form: a <see cref="FeedForwardNet"/> whose <see cref="FeedForwardNet.Predict"/>
/// is the function to export, and what the exported graph says about the model it came from. Every model family
/// with a feed-forward form (MLPs and CNNs as they are, an RBM's encoder or decoder, a deep belief net's up-pass
/// classifier, an autoencoder's encoder) converts to one and is written by the same exporter.
/// </summary>
/// <param name="Net">The network to export; dropout is left out, the loss's output nonlinearity is kept.</param>
/// <param name="Kind">The model kind it came from (<c>feedforward</c>, <c>rbm</c>, ...), as in model files.</param>
/// <param name="Architecture">The original model's architecture, recorded in the graph's doc string and metadata.</param>
/// <param name="Part">Which function of the model the net computes (e.g. <c>classifier</c>, <c>encoder</c>).</param>
/// <param name="InputName">The graph input's name.</param>
/// <param name="OutputName">The graph output's name.</param>
public sealed record FeedForwardForm(FeedForwardNet Net, string Kind, JsonObject Architecture, string Part,
    string InputName = "input", string OutputName = "output")
{
    /// <summary>
    /// A classifier applied to <see cref="Net"/>'s predictions, or null for none. A deep belief net's net is its
    /// recognition stack (the up pass to the penultimate probabilities) and this head is its top RBM's free-energy
    /// label probabilities.
    /// </summary>
    public FreeEnergyLabelHead? LabelHead { get; init; }

    /// <summary>
    /// A deep belief net's deterministic up-pass classifier, what <see cref="DeepBeliefNet.LabelProbabilities"/>
    /// computes: one dense + sigmoid layer per directed layer (<c>sigmoid(x R + r)</c>, whatever the data units'
    /// type, as <see cref="DeepBeliefNet.Penultimate"/> does), then the top RBM's <see cref="FreeEnergyLabelHead"/>.
    /// </summary>
    public static FeedForwardForm Of(DeepBeliefNet dbn)
    {
        ArgumentNullException.ThrowIfNull(dbn);
        var layers = new List<LayerSpec>();
        foreach (var layer in dbn.Layers) layers.AddRange([LayerSpec.Dense(layer.AboveCount), LayerSpec.Of("sigmoid")]);
        // squared-error: Predict is the last sigmoid's output, the penultimate probabilities.
        var spec = new FeedForwardSpec([dbn.VisibleCount], layers, "squared-error");
        var net = new FeedForwardNet(dbn.Backend, spec, dbn.Seed);
        var dense = net.Layers.OfType<Dense>().ToArray();
        for (int l = 0; l < dbn.Layers.Count; l++)
        {
            dbn.Backend.Copy(dbn.Layers[l].RecognitionWeights, dense[l].Weight.Value);
            dbn.Backend.Copy(dbn.Layers[l].RecognitionBias, dense[l].Bias.Value);
        }
        return new FeedForwardForm(net, DbnModelFile.Kind, DbnModelFile.ArchitectureJson(dbn), "classifier", "visible", "label_probabilities")
        {
            LabelHead = FreeEnergyLabelHead.Of(dbn.Top),
        };
    }

    /// <summary>A feed-forward net as it is: its predictions (scores through the loss's output function).</summary>
    public static FeedForwardForm Of(FeedForwardNet net, string kind = FeedForwardModelFile.Kind)
    {
        ArgumentNullException.ThrowIfNull(net);
        return new FeedForwardForm(net, kind, net.Spec.ToJson(), "predictions");
    }

    /// <summary>
    /// An autoencoder's half chosen by <paramref name="part"/> (see <see cref="Autoencoder.Encoder"/> and
    /// <see cref="Autoencoder.Decoder"/>): input to code, or code to reconstruction.
    /// </summary>
    /// <exception cref="ArgumentException">The net has no code layer.</exception>
    public static FeedForwardForm Of(FeedForwardNet autoencoder, RbmPart part, string kind = Autoencoder.FileKind)
    {
        ArgumentNullException.ThrowIfNull(autoencoder);
        return part == RbmPart.Encoder
            ? new FeedForwardForm(Autoencoder.Encoder(autoencoder), kind, autoencoder.Spec.ToJson(), "encoder", "input", "code")
            : new FeedForwardForm(Autoencoder.Decoder(autoencoder), kind, autoencoder.Spec.ToJson(), "decoder", "code", "reconstruction");
    }

    /// <summary>The RBM half chosen by <paramref name="part"/>.</summary>
    public static FeedForwardForm Of(RestrictedBoltzmannMachine rbm, RbmPart part) =>
        part == RbmPart.Encoder ? RbmEncoder(rbm) : RbmDecoder(rbm);

    /// <summary>
    /// An RBM's hidden-probability encoder <c>p(h = 1 | v) = sigmoid(c + (v / sigma) W)</c> as one dense layer and a
    /// sigmoid (for learned Gaussian sigmas, 1/sigma is folded into the weights' rows).
    /// </summary>
    public static FeedForwardForm RbmEncoder(RestrictedBoltzmannMachine rbm)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        int visible = rbm.VisibleCount, hidden = rbm.HiddenCount;
        var weights = RestrictedBoltzmannMachine.Download(rbm.Weights);
        if (rbm.HasScaledVisible)
        {
            var inverseSigma = RestrictedBoltzmannMachine.Download(rbm.InverseSigma);
            for (int i = 0; i < visible; i++)
                for (int j = 0; j < hidden; j++) weights[i * hidden + j] *= inverseSigma[i];
        }
        var spec = new FeedForwardSpec([visible], [LayerSpec.Dense(hidden), LayerSpec.Of("sigmoid")], "squared-error");
        var net = DenseNet(rbm, spec, weights, RestrictedBoltzmannMachine.Download(rbm.HiddenBias));
        return new FeedForwardForm(net, RbmModelFile.Kind, RbmModelFile.ArchitectureJson(rbm), "encoder", "visible", "hidden_probabilities");
    }

    /// <summary>
    /// An RBM's decoder, the visible units' conditional mean given the hidden units: <c>sigmoid(b + h W^T)</c> for
    /// Bernoulli units, <c>b + sigma (h W^T)</c> for Gaussian ones (sigma folded into the transposed weights' columns).
    /// </summary>
    public static FeedForwardForm RbmDecoder(RestrictedBoltzmannMachine rbm)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        int visible = rbm.VisibleCount, hidden = rbm.HiddenCount;
        var weights = RestrictedBoltzmannMachine.Download(rbm.Weights);
        var sigma = rbm.HasScaledVisible ? RestrictedBoltzmannMachine.Download(rbm.Sigma) : null;
        var transposed = new float[hidden * visible];
        for (int i = 0; i < visible; i++)
        {
            float scale = sigma is null ? 1f : sigma[i];
            for (int j = 0; j < hidden; j++) transposed[j * visible + i] = weights[i * hidden + j] * scale;
        }
        LayerSpec[] layers = rbm.Units == VisibleUnits.Bernoulli ? [LayerSpec.Dense(visible), LayerSpec.Of("sigmoid")] : [LayerSpec.Dense(visible)];
        var spec = new FeedForwardSpec([hidden], layers, "squared-error");
        var net = DenseNet(rbm, spec, transposed, RestrictedBoltzmannMachine.Download(rbm.VisibleBias));
        return new FeedForwardForm(net, RbmModelFile.Kind, RbmModelFile.ArchitectureJson(rbm), "decoder", "hidden", "visible_mean");
    }

    private static FeedForwardNet DenseNet(RestrictedBoltzmannMachine rbm, FeedForwardSpec spec, float[] weights, float[] bias)
    {
        var net = new FeedForwardNet(rbm.Backend, spec, rbm.Seed);
        var dense = (Dense)net.Layers[0];
        rbm.Backend.Upload(weights, dense.Weight.Value);
        rbm.Backend.Upload(bias, dense.Bias.Value);
        return net;
    }
}
