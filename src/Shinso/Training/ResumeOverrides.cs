using System.Globalization;

namespace Shinso.Training;

/// <summary>A resumed run asked for a change it cannot make (a new seed or update rule, a smaller budget, no saved state); the message names the option.</summary>
public sealed class ResumeRefusedException(string message) : ArgumentException(message);

/// <summary>
/// What a resumed run is asked to change in the config saved in its checkpoint. The epoch budget, the minibatch size
/// and the learning rate apply from the next epoch on; the seed and the update rule define what the checkpoint holds
/// (its shuffles and masks, its optimizer state), so a different value is refused rather than dropped.
/// </summary>
public sealed record ResumeOverrides
{
    /// <summary>The new total epoch count (epochs already done count), or null to keep the saved one.</summary>
    public int? Epochs { get; init; }

    /// <summary>The new minibatch size, or null.</summary>
    public int? BatchSize { get; init; }

    /// <summary>The new initial learning rate of the schedule (later epochs follow the schedule from it), or null.</summary>
    public float? LearningRate { get; init; }

    /// <summary>The seed asked for; refused unless it is the saved one.</summary>
    public ulong? Seed { get; init; }

    /// <summary>The optimizer asked for; refused unless it is the saved one.</summary>
    public string? Optimizer { get; init; }

    /// <summary>
    /// <paramref name="saved"/> with the changes applied. Each name in an error is the option's own (<paramref name="optionNames"/>
    /// maps <c>seed</c>, <c>optimizer</c> to how the caller spells them, e.g. <c>--seed</c>).
    /// </summary>
    /// <exception cref="ResumeRefusedException">A refused change: the message names the option and says why.</exception>
    public TrainingConfig Apply(TrainingConfig saved, Func<string, string>? optionNames = null)
    {
        ArgumentNullException.ThrowIfNull(saved);
        string Option(string name) => optionNames?.Invoke(name) ?? name;
        if (Seed is { } seed && seed != saved.Training.Seed)
            throw new ResumeRefusedException($"{Option("seed")}: the run was started with seed {saved.Training.Seed}, which fixes its shuffles and dropout masks; " +
                                        "a resumed run keeps it (start a new run for another seed).");
        if (Optimizer is { } optimizer && optimizer != saved.Optimizer.Name)
            throw new ResumeRefusedException($"{Option("optimizer")}: the run trains with {saved.Optimizer.Name} and its checkpoint holds that rule's state; " +
                                        $"it cannot continue with {optimizer} (start a new run).");
        var training = saved.Training;
        if (Epochs is { } epochs) training = training with { Epochs = epochs };
        if (BatchSize is { } batch) training = training with { BatchSize = batch };
        var config = saved with { Training = training };
        if (LearningRate is { } lr) config = config with { Optimizer = config.Optimizer with { LearningRate = lr } };
        return config;
    }

    /// <summary>
    /// The changes between <paramref name="saved"/> and <paramref name="applied"/>, one phrase each (e.g. <c>batch 100 -> 50</c>).
    /// A new learning rate under a decaying schedule also gives the rate epoch <paramref name="nextEpoch"/> (0-based) runs at.
    /// </summary>
    public static IEnumerable<string> Changes(TrainingConfig saved, TrainingConfig applied, int nextEpoch = 0)
    {
        if (saved.Training.Epochs != applied.Training.Epochs) yield return $"epochs {saved.Training.Epochs} -> {applied.Training.Epochs}";
        if (saved.Training.BatchSize != applied.Training.BatchSize) yield return $"batch {saved.Training.BatchSize} -> {applied.Training.BatchSize}";
        if (saved.Optimizer.LearningRate != applied.Optimizer.LearningRate)
        {
            string change = string.Create(CultureInfo.InvariantCulture, $"learning rate {saved.Optimizer.LearningRate} -> {applied.Optimizer.LearningRate}");
            float next = applied.Optimizer.CreateLearningRateSchedule().At(nextEpoch);
            if (next != applied.Optimizer.LearningRate)
                change += string.Create(CultureInfo.InvariantCulture, $" (the {applied.Optimizer.Schedule} schedule's start; epoch {nextEpoch + 1} runs at {next:G4})");
            yield return change;
        }
    }

    /// <summary>An error unless <paramref name="config"/>'s epoch budget is at least <paramref name="epochsDone"/>.</summary>
    /// <exception cref="ResumeRefusedException">The budget is below the epochs already trained; the message names <paramref name="option"/>.</exception>
    public static void CheckBudget(TrainingConfig config, int epochsDone, string option = "epochs")
    {
        if (config.Training.Epochs < epochsDone)
            throw new ResumeRefusedException($"{option}: the run has already trained {epochsDone} epochs, more than the {config.Training.Epochs} asked for; " +
                                        $"give at least {epochsDone}.");
    }
}
