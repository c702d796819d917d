using Shinso.Tensors;

namespace Shinso.Layers;

/// <summary>What a parameter is, so regularizers know which ones they apply to.</summary>
public enum ParameterRole
{
    /// <summary>A weight matrix stored inputs x units: weight decay and max-norm apply.</summary>
    Weight,
    /// <summary>A bias vector: left alone by weight decay and max-norm, as in the papers.</summary>
    Bias,
}

/// <summary>A trainable tensor, its gradient (same shape, same backend) and its role.</summary>
public sealed class Parameter
{
    /// <summary>Creates a parameter and a zeroed gradient of the same shape on the value's backend.</summary>
    public Parameter(string name, Tensor value, ParameterRole role)
    {
        Name = name;
        Value = value;
        Role = role;
        Gradient = value.Backend.Allocate(value.Shape.ToArray());
    }

    /// <summary>A unique name within its model, e.g. <c>layer0.weight</c>; used in model files.</summary>
    public string Name { get; }

    /// <summary>The current value.</summary>
    public Tensor Value { get; }

    /// <summary>The gradient of the objective, written by the last backward pass.</summary>
    public Tensor Gradient { get; }

    /// <summary>Weight or bias.</summary>
    public ParameterRole Role { get; }
}
