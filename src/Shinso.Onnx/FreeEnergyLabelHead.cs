using Shinso.Models.Boltzmann;

namespace Shinso.Onnx;

/// <summary>
/// The classifier on top of a deep belief net's up pass: the label probabilities of the top RBM
/// (<see cref="AssociativeMemory"/>) given penultimate probabilities <c>p</c>,
/// <c>p(k | p) = softmax_k(d_k + sum_j softplus(c_j + (p P)_j + L_kj))</c>, i.e. the softmax of each label's negative
/// free energy (the term <c>a.p</c> shared by all labels cancels). Exported as <c>Gemm</c> (or <c>MatMul</c> + <c>Add</c>),
/// <c>Unsqueeze</c>, <c>Add</c> of the label weights (broadcast to <c>[batch, labels, top]</c>), <c>Softplus</c>,
/// <c>ReduceSum</c> over the top units, <c>Add</c> of the label biases and <c>Softmax</c>.
/// </summary>
/// <param name="PenultimateCount">Penultimate units (the input width).</param>
/// <param name="TopCount">Top units of the RBM.</param>
/// <param name="LabelCount">Softmax label units (the output width).</param>
/// <param name="PenultimateWeights">P, <c>[penultimate, top]</c> row-major.</param>
/// <param name="TopBias">c, <c>[top]</c>.</param>
/// <param name="LabelWeights">L, <c>[labels, top]</c> row-major.</param>
/// <param name="LabelBias">d, <c>[labels]</c>.</param>
public sealed record FreeEnergyLabelHead(int PenultimateCount, int TopCount, int LabelCount,
    float[] PenultimateWeights, float[] TopBias, float[] LabelWeights, float[] LabelBias)
{
    /// <summary>The head of <paramref name="memory"/>, its parameters copied to the host.</summary>
    public static FreeEnergyLabelHead Of(AssociativeMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        return new FreeEnergyLabelHead(memory.PenultimateCount, memory.TopCount, memory.LabelCount,
            RestrictedBoltzmannMachine.Download(memory.PenultimateWeights), RestrictedBoltzmannMachine.Download(memory.TopBias),
            RestrictedBoltzmannMachine.Download(memory.LabelWeights), RestrictedBoltzmannMachine.Download(memory.LabelBias));
    }

    /// <summary>Throws unless every array has the length its sizes give.</summary>
    /// <exception cref="ArgumentException">A size is not positive or an array's length does not match.</exception>
    public void Validate()
    {
        if (PenultimateCount < 1 || TopCount < 1 || LabelCount < 1)
            throw new ArgumentException($"A free-energy label head needs positive sizes, got {PenultimateCount} penultimate, {TopCount} top, {LabelCount} labels.");
        Check(PenultimateWeights, (long)PenultimateCount * TopCount, nameof(PenultimateWeights));
        Check(TopBias, TopCount, nameof(TopBias));
        Check(LabelWeights, (long)LabelCount * TopCount, nameof(LabelWeights));
        Check(LabelBias, LabelCount, nameof(LabelBias));
    }

    private static void Check(float[] values, long length, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Length != length)
            throw new ArgumentException($"{name} holds {values.Length} values; the head's sizes need {length}.", name);
    }
}
