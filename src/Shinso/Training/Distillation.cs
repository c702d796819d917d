using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.IO;

namespace Shinso.Training;

/// <summary>What a distilled student is trained to match in its teachers' outputs.</summary>
public enum DistillationTarget
{
    /// <summary>The teachers' logits, by half the squared error (Ba &amp; Caruana 2014, "Do deep nets really need to be deep?").</summary>
    Logits,

    /// <summary>The teachers' probabilities softened by a temperature, by cross-entropy (Hinton, Vinyals &amp; Dean 2015).</summary>
    SoftTargets,
}

/// <summary>
/// Model compression by distillation (Bucila et al. 2006): a student classifier trained on the outputs of one or more
/// saved teachers (an ensemble's logits are averaged), optionally mixed with the labels. The student's objective is
/// <c>(1 - a) D + a CE(labels)</c>, where <c>a</c> is <see cref="LabelWeight"/> and <c>D</c> is, for logits,
/// <c>(1/2B) Σ ||z_s - z_t||²</c>, or, for soft targets at temperature T, <c>T² CE(softmax(z_t / T), softmax(z_s / T))</c>:
/// the T² keeps its gradient, <c>T (softmax(z_s/T) - softmax(z_t/T)) / B</c>, on the scale of the labels' as T changes.
/// </summary>
public sealed record Distillation
{
    /// <summary>The teachers' model files as the run was given them (a resumed run loads them again).</summary>
    public IReadOnlyList<string> Teachers { get; init; } = [];

    /// <summary>Logits or softened probabilities.</summary>
    public DistillationTarget Target { get; init; } = DistillationTarget.Logits;

    /// <summary>The softening temperature of <see cref="DistillationTarget.SoftTargets"/> (1 for logits, where it is not used).</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>The labels' share of the objective, in [0, 1] (0: the teachers' outputs alone).</summary>
    public float LabelWeight { get; init; }

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">No teacher, a temperature that is not positive and finite, or a label weight outside [0, 1]; the message names the setting.</exception>
    public void Validate()
    {
        if (Teachers.Count == 0) throw new ArgumentException("Distillation needs at least one teacher model.");
        if (!(Temperature > 0) || !float.IsFinite(Temperature)) throw new ArgumentException($"The distillation temperature must be positive and finite, got {Temperature}.");
        if (Target == DistillationTarget.Logits && Temperature != 1f) throw new ArgumentException($"A temperature ({Temperature}) softens probabilities; logits are matched as they are (use soft:T).");
        if (!(LabelWeight is >= 0f and <= 1f)) throw new ArgumentException($"The label weight must be in [0, 1], got {LabelWeight}.");
    }

    /// <summary>The command-line and JSON name of the target: <c>logits</c> or <c>soft:T</c>.</summary>
    public string TargetText => Target == DistillationTarget.Logits ? "logits" : "soft:" + Temperature.ToString(CultureInfo.InvariantCulture);

    /// <summary>Reads <c>logits</c> or <c>soft:T</c> (the form <c>--distill</c> takes) into <paramref name="distillation"/>'s target and temperature.</summary>
    /// <exception cref="FormatException">Neither form, or T is not a number.</exception>
    public static Distillation WithTarget(Distillation distillation, string text)
    {
        if (text == "logits") return distillation with { Target = DistillationTarget.Logits, Temperature = 1f };
        if (text.StartsWith("soft:", StringComparison.Ordinal)
            && float.TryParse(text.AsSpan(5), NumberStyles.Float, CultureInfo.InvariantCulture, out float t))
            return distillation with { Target = DistillationTarget.SoftTargets, Temperature = t };
        throw new FormatException($"'{text}' is not logits or soft:T (T a temperature, e.g. soft:4).");
    }

    /// <inheritdoc />
    public bool Equals(Distillation? other) => other is not null && Target == other.Target && Temperature == other.Temperature &&
                                               LabelWeight == other.LabelWeight && Teachers.SequenceEqual(other.Teachers);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Target);
        hash.Add(Temperature);
        hash.Add(LabelWeight);
        foreach (string t in Teachers) hash.Add(t);
        return hash.ToHashCode();
    }

    /// <summary>The settings as JSON (the <c>distill</c> object under <c>training</c>).</summary>
    public JsonObject ToJson()
    {
        var teachers = new JsonArray();
        foreach (string t in Teachers) teachers.Add(t);
        return new JsonObject { ["teachers"] = teachers, ["target"] = TargetText, ["labelWeight"] = LabelWeight };
    }

    /// <summary>Reads a <c>distill</c> object; a bad value is an error naming the file and the key.</summary>
    /// <exception cref="FormatException">A key is missing, unknown or out of range.</exception>
    public static Distillation FromJson(StrictJson json)
    {
        var distillation = new Distillation { Teachers = json.StringArray("teachers"), LabelWeight = json.Float("labelWeight", 0f) };
        string target = json.String("target", "logits");
        json.RejectUnknownKeys("teachers, target, labelWeight");
        try { distillation = WithTarget(distillation, target); }
        catch (FormatException e) { throw json.Invalid("target", e.Message); }
        try { distillation.Validate(); }
        catch (ArgumentException e) { throw new FormatException($"{json.Source}: '{json.Path}': {e.Message}"); }
        return distillation;
    }
}
