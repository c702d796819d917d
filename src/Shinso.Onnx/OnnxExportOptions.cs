namespace Shinso.Onnx;

/// <summary>How a dense layer <c>Y = X W + b</c> appears in the exported graph.</summary>
public enum DenseOperator
{
    /// <summary>One <c>Gemm</c> node (what most runtimes fuse best).</summary>
    Gemm,
    /// <summary><c>MatMul</c> followed by <c>Add</c> (for runtimes or tools that handle Gemm poorly).</summary>
    MatMulAdd,
}

/// <summary>Which deterministic half of a restricted Boltzmann machine or an autoencoder to export.</summary>
public enum RbmPart
{
    /// <summary>Visible to hidden: <c>p(h = 1 | v) = sigmoid(c + (v / sigma) W)</c>.</summary>
    Encoder,
    /// <summary>Hidden to visible: the conditional mean <c>E[v | h]</c> (sigmoid for Bernoulli units, linear for Gaussian ones).</summary>
    Decoder,
}

/// <summary>Settings of an ONNX export; the defaults suit ONNX Runtime and the ONNX checker.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The ONNX operator set the graph is written against, <see cref="OnnxExporter.MinOpset"/> to <see cref="OnnxExporter.MaxOpset"/>.</summary>
    public int Opset { get; init; } = OnnxExporter.DefaultOpset;

    /// <summary>How dense layers are written.</summary>
    public DenseOperator Dense { get; init; } = DenseOperator.Gemm;

    /// <summary>Which half a model file of kind <c>rbm</c> or <c>autoencoder</c> exports as (ignored by other kinds).</summary>
    public RbmPart RbmPart { get; init; } = RbmPart.Encoder;

    /// <summary>The defaults: opset 13, Gemm, RBM encoder.</summary>
    public static OnnxExportOptions Default { get; } = new();
}
