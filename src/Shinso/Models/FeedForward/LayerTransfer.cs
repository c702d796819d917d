using Shinso.Tensors;

namespace Shinso.Models.FeedForward;

/// <summary>
/// Transfer learning by copying layers (Yosinski, Clune, Bengio &amp; Lipson 2014): a net for task T starts from the first n
/// weight layers of a net trained on task S, the rest freshly initialised, and the copies are then frozen or fine-tuned.
/// </summary>
public static class LayerTransfer
{
    /// <summary>The indices in <see cref="FeedForwardSpec.Layers"/> of the layers that have parameters (the n of "the first n layers"), input first.</summary>
    public static IReadOnlyList<int> WeightLayers(FeedForwardNet net)
    {
        ArgumentNullException.ThrowIfNull(net);
        var indices = new List<int>();
        for (int i = 0; i < net.Layers.Count; i++)
            if (net.Layers[i].Parameters.Count > 0) indices.Add(i);
        return indices;
    }

    /// <summary>
    /// Copies the parameters of the first <paramref name="weightLayers"/> layers with weights of <paramref name="source"/>
    /// into the corresponding layers of <paramref name="target"/> (the nets may live on different backends) and returns
    /// their indices in the target's spec, to freeze them or give them a learning-rate multiplier. The layers without
    /// parameters between them (activations, pooling) are the target's own.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="weightLayers"/> is not between 1 and the weight layers either net has.</exception>
    /// <exception cref="ArgumentException">The nets take inputs of different shapes, or a copied layer's kind or a parameter's shape differs; the message names both.</exception>
    public static IReadOnlyList<int> Copy(FeedForwardNet source, FeedForwardNet target, int weightLayers)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        var from = WeightLayers(source);
        var to = WeightLayers(target);
        if (weightLayers < 1 || weightLayers > Math.Min(from.Count, to.Count))
            throw new ArgumentOutOfRangeException(nameof(weightLayers), weightLayers,
                $"Layers to copy must be between 1 and {Math.Min(from.Count, to.Count)}: the source has {from.Count} layers with weights, the target {to.Count}.");
        if (!source.Spec.InputShape.SequenceEqual(target.Spec.InputShape))
            throw new ArgumentException($"The source net takes inputs of shape {Tensor.ShapeText(source.Spec.InputShape)} but the target takes {Tensor.ShapeText(target.Spec.InputShape)}.", nameof(target));
        // Every check before any copy: a refused transfer leaves the target as it was.
        for (int k = 0; k < weightLayers; k++)
        {
            var (s, t) = (source.Layers[from[k]], target.Layers[to[k]]);
            string where = $"Weight layer {k + 1} (source layer {from[k]}, target layer {to[k]})";
            if (s.Kind != t.Kind || s.Parameters.Count != t.Parameters.Count)
                throw new ArgumentException($"{where}: the source's is {source.Spec.Layers[from[k]].Description} but the target's is {target.Spec.Layers[to[k]].Description}.", nameof(target));
            for (int j = 0; j < s.Parameters.Count; j++)
                if (!s.Parameters[j].Value.Shape.SequenceEqual(t.Parameters[j].Value.Shape))
                    throw new ArgumentException($"{where}: the source's {s.Parameters[j].Name} has shape {Tensor.ShapeText(s.Parameters[j].Value.Shape)} " +
                                                $"but the target's {t.Parameters[j].Name} has shape {Tensor.ShapeText(t.Parameters[j].Value.Shape)}.", nameof(target));
        }
        var copied = new List<int>(weightLayers);
        for (int k = 0; k < weightLayers; k++)
        {
            var (s, t) = (source.Layers[from[k]], target.Layers[to[k]]);
            for (int j = 0; j < s.Parameters.Count; j++)
            {
                var host = new float[s.Parameters[j].Value.Length];
                source.Backend.Download(s.Parameters[j].Value, host);
                target.Backend.Upload(host, t.Parameters[j].Value);
            }
            copied.Add(to[k]);
        }
        return copied;
    }
}
