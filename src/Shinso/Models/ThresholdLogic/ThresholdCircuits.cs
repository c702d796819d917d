using Shinso.Backends;
using Shinso.Layers;
using Shinso.Models.FeedForward;

namespace Shinso.Models.ThresholdLogic;

/// <summary>
/// McCulloch and Pitts' logical calculus (1943) in threshold units: a unit fires (1) when the weighted sum of its binary
/// inputs reaches its threshold, i.e. <c>step(w . x + b)</c>, the bias being minus the threshold. One unit computes NAND, and
/// NAND gates compose into any Boolean function; these nets have hand-set weights, not learned ones.
/// </summary>
public static class ThresholdCircuits
{
    /// <summary>Weights of a two-input NAND unit: <c>step(-2a - 2b + 3)</c> is 0 only for a = b = 1.</summary>
    public static readonly (float A, float B, float Bias) NandUnit = (-2f, -2f, 3f);

    /// <summary>Weights of a unit that copies its first input: <c>step(2a - 1)</c> = a for binary a.</summary>
    public static readonly (float A, float B, float Bias) CopyFirstUnit = (2f, 0f, -1f);

    /// <summary>Weights of a unit that copies its second input: <c>step(2b - 1)</c> = b for binary b.</summary>
    public static readonly (float A, float B, float Bias) CopySecondUnit = (0f, 2f, -1f);

    /// <summary>A one-unit net: [batch, 2] binary inputs to [batch, 1], <c>NAND(a, b)</c>.</summary>
    public static FeedForwardNet Nand(IBackend backend)
    {
        var net = Net(backend, [1]);
        SetLayer(net, 0, [NandUnit]);
        return net;
    }

    /// <summary>
    /// XOR from four NAND gates: <c>g = NAND(a, b)</c>, then <c>NAND(a, g)</c> and <c>NAND(b, g)</c>, then the NAND of
    /// those two. A layered net has no connections that skip a layer, so the first layer also copies a and b forward
    /// with two threshold units (weight 2, bias -1): [2] -> [3] -> [2] -> [1].
    /// </summary>
    public static FeedForwardNet Xor(IBackend backend)
    {
        var net = Net(backend, [3, 2, 1]);
        // Layer 0 outputs (g, a, b).
        SetLayer(net, 0, [NandUnit, CopyFirstUnit, CopySecondUnit]);
        // Layer 1 reads (g, a, b): NAND(a, g) and NAND(b, g).
        SetLayer(net, 1, [(-2f, -2f, 0f, 3f), (-2f, 0f, -2f, 3f)]);
        SetLayer(net, 2, [NandUnit]);
        return net;
    }

    private static FeedForwardNet Net(IBackend backend, int[] units)
    {
        var layers = new List<LayerSpec>();
        foreach (int u in units) layers.AddRange([LayerSpec.Dense(u), LayerSpec.Of("step")]);
        return new FeedForwardNet(backend, new FeedForwardSpec([2], layers, "squared-error"), seed: 0);
    }

    private static void SetLayer(FeedForwardNet net, int index, (float A, float B, float Bias)[] units) =>
        SetLayer(net, index, Array.ConvertAll(units, u => new[] { u.A, u.B, u.Bias }));

    private static void SetLayer(FeedForwardNet net, int index, (float G, float A, float B, float Bias)[] units) =>
        SetLayer(net, index, Array.ConvertAll(units, u => new[] { u.G, u.A, u.B, u.Bias }));

    /// <summary>Sets dense layer <paramref name="index"/> (of the net's dense layers): each unit's input weights, then its bias.</summary>
    private static void SetLayer(FeedForwardNet net, int index, float[][] units)
    {
        var dense = net.Layers.OfType<Dense>().ElementAt(index);
        int inputs = dense.Inputs;
        var weights = new float[inputs * units.Length];
        var bias = new float[units.Length];
        for (int j = 0; j < units.Length; j++)
        {
            for (int i = 0; i < inputs; i++) weights[i * units.Length + j] = units[j][i];
            bias[j] = units[j][inputs];
        }
        net.Backend.Upload(weights, dense.Weight.Value);
        net.Backend.Upload(bias, dense.Bias.Value);
    }
}
