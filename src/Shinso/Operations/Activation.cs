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
    /// <summary>
    /// f(x) = 1 where x &gt;= 0, else 0 (NaN gives 0): McCulloch and Pitts' threshold unit (1943), whose threshold is minus
    /// its bias. f' = 0 wherever it exists, so backprop passes no gradient through it; Rosenblatt's rule trains it.
    /// </summary>
    Step,
}
