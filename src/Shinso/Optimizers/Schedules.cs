namespace Shinso.Optimizers;

/// <summary>A value that may change from epoch to epoch (a learning rate or a momentum).</summary>
public interface ISchedule
{
    /// <summary>The value during <paramref name="epoch"/> (0-based).</summary>
    float At(int epoch);

    /// <summary>
    /// The value for update <paramref name="step"/> (0-based, counted over the whole run) in <paramref name="epoch"/>; schedules that
    /// change only between epochs ignore the step.
    /// </summary>
    float At(int epoch, long step) => At(epoch);
}

/// <summary>The same value every epoch.</summary>
/// <param name="Value">The value.</param>
public sealed record ConstantSchedule(float Value) : ISchedule
{
    /// <inheritdoc />
    public float At(int epoch) => Value;
}

/// <summary>Step decay: <c>initial * factor^floor(epoch / every)</c>.</summary>
/// <param name="Initial">The value at epoch 0.</param>
/// <param name="Factor">The multiplier applied every <paramref name="Every"/> epochs.</param>
/// <param name="Every">Epochs between drops.</param>
public sealed record StepDecaySchedule(float Initial, float Factor, int Every) : ISchedule
{
    /// <inheritdoc />
    public float At(int epoch) => Initial * MathF.Pow(Factor, epoch / Math.Max(1, Every));
}

/// <summary>Exponential decay: <c>initial * rate^epoch</c>.</summary>
/// <param name="Initial">The value at epoch 0.</param>
/// <param name="Rate">The multiplier per epoch.</param>
public sealed record ExponentialDecaySchedule(float Initial, float Rate) : ISchedule
{
    /// <inheritdoc />
    public float At(int epoch) => Initial * MathF.Pow(Rate, epoch);
}

/// <summary>
/// A linear ramp from <paramref name="Start"/> to <paramref name="End"/> over <paramref name="Epochs"/> epochs,
/// then constant: the momentum schedule of Hinton et al. 2012 and Srivastava et al. 2014 (e.g. 0.5 -> 0.9).
/// </summary>
/// <param name="Start">The value at epoch 0.</param>
/// <param name="End">The value from epoch <paramref name="Epochs"/> on.</param>
/// <param name="Epochs">Length of the ramp.</param>
public sealed record LinearRampSchedule(float Start, float End, int Epochs) : ISchedule
{
    /// <inheritdoc />
    public float At(int epoch) => epoch >= Epochs ? End : Start + (End - Start) * epoch / Math.Max(1, Epochs);
}

/// <summary>
/// One value before epoch <paramref name="SwitchEpoch"/>, another from it on: the momentum schedule of Hinton's practical guide
/// for RBMs (0.5 for the first five epochs, then 0.9).
/// </summary>
/// <param name="Before">The value in epochs before <paramref name="SwitchEpoch"/>.</param>
/// <param name="After">The value from epoch <paramref name="SwitchEpoch"/> on.</param>
/// <param name="SwitchEpoch">The first (0-based) epoch of <paramref name="After"/>.</param>
public sealed record SwitchSchedule(float Before, float After, int SwitchEpoch) : ISchedule
{
    /// <inheritdoc />
    public float At(int epoch) => epoch < SwitchEpoch ? Before : After;
}

/// <summary>
/// A rate divided by <paramref name="Divisor"/> before every update, never below <paramref name="Floor"/>: update t (0-based) uses
/// <c>max(Initial / Divisor^(t + 1), Floor)</c>. Salakhutdinov &amp; Hinton's DBM code decays its learning rates this way
/// (<c>epsilonw = max(epsilonw / 1.000015, 0.0001)</c> at every minibatch).
/// </summary>
/// <param name="Initial">The rate before any decay.</param>
/// <param name="Divisor">The divisor per update (at least 1).</param>
/// <param name="Floor">The smallest rate.</param>
public sealed record UpdateDecaySchedule(float Initial, double Divisor, float Floor) : ISchedule
{
    /// <summary>The initial rate (positive), the divisor (at least 1) and the floor (at least 0).</summary>
    public float Initial { get; } = Initial > 0 && float.IsFinite(Initial) ? Initial : throw new ArgumentOutOfRangeException(nameof(Initial), Initial, "must be positive and finite.");

    /// <summary>The divisor per update.</summary>
    public double Divisor { get; } = Divisor >= 1 ? Divisor : throw new ArgumentOutOfRangeException(nameof(Divisor), Divisor, "must be >= 1.");

    /// <summary>The smallest rate.</summary>
    public float Floor { get; } = Floor >= 0 ? Floor : throw new ArgumentOutOfRangeException(nameof(Floor), Floor, "must be >= 0.");

    /// <summary>The undecayed rate (what a report of the schedule shows before updates are counted).</summary>
    public float At(int epoch) => Initial;

    /// <inheritdoc />
    public float At(int epoch, long step) => (float)Math.Max(Initial / Math.Pow(Divisor, step + 1), Floor);
}
