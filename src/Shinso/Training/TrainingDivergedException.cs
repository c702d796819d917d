namespace Shinso.Training;

/// <summary>
/// Training produced a non-finite value: a minibatch's loss (<see cref="Step"/> set) or, checked after each epoch, a
/// parameter (<see cref="Parameter"/> set). The shared loop stops there, before the epoch's checkpoint is written, so
/// the last checkpoint on disk is the last epoch that ended finite.
/// </summary>
public sealed class TrainingDivergedException : ArithmeticException
{
    /// <summary>Creates the exception; the message names what turned non-finite, where, and the value.</summary>
    /// <param name="epoch">The 1-based epoch.</param>
    /// <param name="step">The 1-based update within the epoch when a loss diverged, else null.</param>
    /// <param name="parameter">The parameter that holds a non-finite value, else null.</param>
    /// <param name="value">The non-finite value found.</param>
    /// <param name="detail">More to say (advice, the checkpoint left), appended to the message.</param>
    /// <param name="inner">The divergence this one adds detail to, if any.</param>
    /// <param name="stage">The phase of a multi-phase run (a DBN's "greedy layer 1", "up-down", "backprop"), if any.</param>
    public TrainingDivergedException(int epoch, int? step, string? parameter, double value, string? detail = null, Exception? inner = null, string? stage = null)
        : base(Describe(epoch, step, parameter, value, stage) + (detail is null ? "" : " " + detail), inner)
    {
        Epoch = epoch;
        Step = step;
        Parameter = parameter;
        Value = value;
        Stage = stage;
        Detail = detail;
    }

    /// <summary>The phase of a multi-phase run in which training diverged (its epochs count from 1 within it), or null.</summary>
    public string? Stage { get; }

    /// <summary>What a caller added to the message, or null.</summary>
    public string? Detail { get; }

    /// <summary>The same divergence placed in <paramref name="stage"/> (the phase that ran it), unless it already names one.</summary>
    public TrainingDivergedException InStage(string stage) => Stage is not null ? this : new(Epoch, Step, Parameter, Value, Detail, this, stage);

    /// <summary>The 1-based epoch in which training diverged.</summary>
    public int Epoch { get; }

    /// <summary>The 1-based update within the epoch whose loss was non-finite, when a loss diverged.</summary>
    public int? Step { get; }

    /// <summary>The name of the parameter holding a non-finite value, when a parameter diverged.</summary>
    public string? Parameter { get; }

    /// <summary>The non-finite value (NaN or an infinity).</summary>
    public double Value { get; }

    /// <summary>The same divergence with <paramref name="detail"/> added to the message (a caller's advice).</summary>
    public TrainingDivergedException WithDetail(string detail) => new(Epoch, Step, Parameter, Value, detail, this, Stage);

    private static string Describe(int epoch, int? step, string? parameter, double value, string? stage)
    {
        string text = value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string where = stage is null ? "" : $" in {stage}";
        return parameter is not null
            ? $"training diverged{where}: parameter '{parameter}' holds {text} after epoch {epoch}."
            : $"training diverged{where}: the loss is {text} at update {step} of epoch {epoch}.";
    }
}
