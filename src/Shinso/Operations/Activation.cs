namespace Shinso.Operations;

/// <summary>Elementwise activation functions the backends implement.</summary>
public enum Activation
{
    /// <summary>f(x) = x.</summary>
    Identity,
    /// <summary>f(x) = 1 / (1 + e^-x).</summary>
    Sigmoid,
    /// <summary>f(x) = tanh(x).</summary>
    Tanh,
    /// <summary>f(x) = max(0, x); f'(0) is taken as 0.</summary>
    Relu,
    /// <summary>f(x) = |x| (Jarrett et al. 2009 rectification); f'(0) is taken as 0.</summary>
    AbsoluteValue,
}
