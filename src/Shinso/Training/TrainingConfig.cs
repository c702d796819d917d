using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Models.FeedForward;
using Shinso.Optimizers;

namespace Shinso.Training;

/// <summary>
/// A whole training run as data: architecture, optimizer, regularizers, training loop and data
/// preparation. Presets are instances of it; config files are its JSON form; checkpoints store it.
/// </summary>
public sealed record TrainingConfig
{
    /// <summary>The network.</summary>
    public required FeedForwardSpec Architecture { get; init; }

    /// <summary>The update rule and its schedule.</summary>
    public OptimizerConfig Optimizer { get; init; } = new();

    /// <summary>L2 weight decay coefficient (0: off).</summary>
    public float WeightDecay { get; init; }

    /// <summary>Max-norm radius for each unit's incoming weights (0: off).</summary>
    public float MaxNorm { get; init; }

    /// <summary>Global gradient-norm clipping threshold (0: off).</summary>
    public float ClipNorm { get; init; }

    /// <summary>Training-loop settings (epochs, batch, seed, early stopping).</summary>
    public TrainingOptions Training { get; init; } = new();

    /// <summary>Fraction of the training set held out for validation (0: none).</summary>
    public double ValidationFraction { get; init; }

    /// <summary>Standardise each input feature with the training set's mean and deviation.</summary>
    public bool Normalize { get; init; }

    /// <summary>The optimizer with its regularization hooks attached.</summary>
    public Optimizer CreateOptimizer()
    {
        var optimizer = Optimizer.Create();
        if (ClipNorm > 0f) optimizer.Hooks.Add(new GradientClipping(ClipNorm));
        if (WeightDecay > 0f) optimizer.Hooks.Add(new WeightDecay(WeightDecay));
        if (MaxNorm > 0f) optimizer.Hooks.Add(new MaxNorm(MaxNorm));
        return optimizer;
    }

    /// <summary>The config as JSON, in the same form <see cref="FromJson"/> reads.</summary>
    public JsonObject ToJson()
    {
        var training = new JsonObject
        {
            ["epochs"] = Training.Epochs, ["batch"] = Training.BatchSize, ["seed"] = Training.Seed,
            ["patience"] = Training.Patience, ["validation"] = ValidationFraction, ["normalize"] = Normalize,
        };
        if (Training.FrozenLayers.Count > 0) training["frozen"] = new JsonArray([.. Training.FrozenLayers.Select(i => (JsonNode)i)]);
        if (Training.Augmentation is { IsIdentity: false } augmentation) training["augment"] = ImageAugmentationJson.ToJson(augmentation);
        if (Training.Distillation is { } distillation) training["distill"] = distillation.ToJson();
        if (Training.LearningRateMultipliers.Count > 0)
            training["learningRateMultipliers"] = new JsonArray([.. Training.LearningRateMultipliers.OrderBy(m => m.Key)
                .Select(m => (JsonNode)new JsonObject { ["layer"] = m.Key, ["multiplier"] = m.Value })]);
        return new JsonObject
        {
            ["architecture"] = Architecture.ToJson(),
            ["optimizer"] = Optimizer.ToJson(),
            ["regularization"] = new JsonObject { ["weightDecay"] = WeightDecay, ["maxNorm"] = MaxNorm, ["clipNorm"] = ClipNorm },
            ["training"] = training,
        };
    }

    /// <summary>Reads a config; unknown keys and wrong types are errors naming <paramref name="source"/> and the key.</summary>
    public static TrainingConfig FromJson(JsonNode? node, string source)
    {
        var json = new StrictJson(node, source);
        var architecture = FeedForwardSpec.FromJson(json.Object("architecture") ?? throw new FormatException($"{source}: missing required key 'architecture'."));
        var optimizer = json.Object("optimizer") is { } o ? OptimizerConfig.FromJson(o) : new OptimizerConfig();
        float weightDecay = 0f, maxNorm = 0f, clipNorm = 0f;
        if (json.Object("regularization") is { } r)
        {
            weightDecay = r.Float("weightDecay", 0f);
            maxNorm = r.Float("maxNorm", 0f);
            clipNorm = r.Float("clipNorm", 0f);
            r.RejectUnknownKeys("weightDecay, maxNorm, clipNorm");
        }
        var training = new TrainingOptions();
        double validation = 0;
        bool normalize = false;
        if (json.Object("training") is { } t)
        {
            training = new TrainingOptions
            {
                Epochs = t.Int("epochs", training.Epochs),
                BatchSize = t.Int("batch", training.BatchSize),
                Seed = t.ULong("seed", training.Seed),
                Patience = t.Int("patience", 0),
                FrozenLayers = FrozenLayers(t, architecture.Layers.Count),
                LearningRateMultipliers = LearningRateMultipliers(t, architecture.Layers.Count),
                Augmentation = t.Object("augment") is { } augment ? ImageAugmentationJson.FromJson(augment) : null,
                Distillation = t.Object("distill") is { } distill ? Distillation.FromJson(distill) : null,
            };
            validation = t.Float("validation", 0f);
            normalize = t.Bool("normalize", false);
            t.RejectUnknownKeys("epochs, batch, seed, patience, validation, normalize, frozen, learningRateMultipliers, augment, distill");
            if (training.Epochs < 0) throw t.Invalid("epochs", $"must be >= 0, got {training.Epochs}.");
            if (training.BatchSize < 0) throw t.Invalid("batch", $"must be >= 0 (0 = full batch), got {training.BatchSize}.");
            if (validation is < 0 or >= 1) throw t.Invalid("validation", $"must be in [0, 1), got {validation}.");
            if (training.Augmentation is { } augmentation)
            {
                // Standardised pixels would be shifted in their per-pixel units and zero-filled with each pixel's mean, not black.
                if (normalize) throw t.Invalid("augment", "distorts raw images; it cannot be combined with \"normalize\": true.");
                try { augmentation.Geometry(architecture.InputShape); }
                catch (ArgumentException e) { throw t.Invalid("augment", e.Message); }
            }
            // Saved teachers take the raw inputs they were trained on (their own standardisation is folded into their weights).
            if (training.Distillation is not null && normalize)
                throw t.Invalid("distill", "runs the teachers on the student's inputs, which they take raw; it cannot be combined with \"normalize\": true.");
            if (training.Distillation is not null && architecture.Loss != "softmax-cross-entropy")
                throw t.Invalid("distill", $"trains a softmax classifier on teachers' logits; this architecture's loss is '{architecture.Loss}'.");
        }
        json.RejectUnknownKeys("architecture, optimizer, regularization, training");
        return new TrainingConfig
        {
            Architecture = architecture, Optimizer = optimizer, WeightDecay = weightDecay, MaxNorm = maxNorm, ClipNorm = clipNorm,
            Training = training, ValidationFraction = validation, Normalize = normalize,
        };
    }

    /// <summary>The optional <c>frozen</c> array of layer indices, each checked against the architecture's <paramref name="layers"/>.</summary>
    private static IReadOnlyList<int> FrozenLayers(StrictJson training, int layers)
    {
        if (!training.Has("frozen")) return [];
        var indices = new List<int>();
        foreach (int i in training.IntArray("frozen"))
        {
            if (i < 0 || i >= layers) throw training.Invalid("frozen", $"names layer {i}; the architecture has layers 0 to {layers - 1}.");
            if (indices.Contains(i)) throw training.Invalid("frozen", $"names layer {i} twice.");
            indices.Add(i);
        }
        return indices;
    }

    /// <summary>The optional <c>learningRateMultipliers</c> array of <c>{"layer": i, "multiplier": m}</c> objects, each checked against the architecture.</summary>
    private static IReadOnlyDictionary<int, float> LearningRateMultipliers(StrictJson training, int layers)
    {
        var multipliers = new Dictionary<int, float>();
        if (!training.Has("learningRateMultipliers")) return multipliers;
        foreach (var entry in training.ObjectArray("learningRateMultipliers"))
        {
            int layer = entry.Int("layer");
            float multiplier = entry.Float("multiplier");
            entry.RejectUnknownKeys("layer, multiplier");
            if (layer < 0 || layer >= layers) throw entry.Invalid("layer", $"names layer {layer}; the architecture has layers 0 to {layers - 1}.");
            if (!(multiplier > 0) || !float.IsFinite(multiplier))
                throw entry.Invalid("multiplier", $"must be positive and finite, got {multiplier} (to keep a layer fixed, list it in 'frozen').");
            if (!multipliers.TryAdd(layer, multiplier)) throw entry.Invalid("layer", $"names layer {layer} twice.");
        }
        return multipliers;
    }
}
