using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Optimizers;

namespace Shinso.Training;

/// <summary>The optimizer part of a <see cref="TrainingConfig"/>.</summary>
public sealed record OptimizerConfig
{
    /// <summary>sgd, momentum, nesterov, adagrad, rmsprop, adadelta or adam.</summary>
    public string Name { get; init; } = "momentum";

    /// <summary>Initial learning rate.</summary>
    public float LearningRate { get; init; } = 0.05f;

    /// <summary>constant, step or exponential.</summary>
    public string Schedule { get; init; } = "constant";

    /// <summary>Step or exponential decay factor.</summary>
    public float DecayFactor { get; init; } = 1f;

    /// <summary>Epochs between step-decay drops.</summary>
    public int DecayEvery { get; init; } = 1;

    /// <summary>Momentum at epoch 0 (momentum, nesterov).</summary>
    public float MomentumStart { get; init; } = 0.9f;

    /// <summary>Momentum after the ramp.</summary>
    public float MomentumEnd { get; init; } = 0.9f;

    /// <summary>Epochs of the linear momentum ramp.</summary>
    public int MomentumRampEpochs { get; init; }

    /// <summary>Adam's beta1.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>Adam's beta2.</summary>
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>RMSprop's and AdaDelta's decay rho.</summary>
    public float Rho { get; init; } = 0.9f;

    /// <summary>The denominator constant (AdaGrad, RMSprop, AdaDelta, Adam).</summary>
    public float Epsilon { get; init; } = 1e-8f;

    internal const string Names = "sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam";

    /// <summary>The defaults each paper gives for <paramref name="name"/>.</summary>
    public static OptimizerConfig Defaults(string name) => name switch
    {
        "sgd" => new() { Name = name, LearningRate = 0.1f },
        "momentum" or "nesterov" => new() { Name = name, LearningRate = 0.05f },
        "adagrad" => new() { Name = name, LearningRate = 0.01f },
        "rmsprop" => new() { Name = name, LearningRate = 1e-3f, Rho = 0.9f },
        "adadelta" => new() { Name = name, LearningRate = 1f, Rho = 0.95f, Epsilon = 1e-6f },
        "adam" => new() { Name = name, LearningRate = 1e-3f },
        _ => throw new ArgumentException($"Unknown optimizer '{name}'; expected one of {Names}.", nameof(name)),
    };

    /// <summary>Creates the optimizer.</summary>
    public Optimizer Create()
    {
        ISchedule lr = Schedule switch
        {
            "step" => new StepDecaySchedule(LearningRate, DecayFactor, DecayEvery),
            "exponential" => new ExponentialDecaySchedule(LearningRate, DecayFactor),
            _ => new ConstantSchedule(LearningRate),
        };
        ISchedule momentum = new LinearRampSchedule(MomentumStart, MomentumEnd, MomentumRampEpochs);
        return Name switch
        {
            "sgd" => new Sgd(lr),
            "momentum" => new Momentum(lr, momentum),
            "nesterov" => new Nesterov(lr, momentum),
            "adagrad" => new AdaGrad(lr, Epsilon),
            "rmsprop" => new RmsProp(lr, Rho, Epsilon),
            "adadelta" => new AdaDelta(lr, Rho, Epsilon),
            "adam" => new Adam(lr, Beta1, Beta2, Epsilon),
            _ => throw new ArgumentException($"Unknown optimizer '{Name}'; expected one of {Names}.", nameof(Name)),
        };
    }

    internal JsonObject ToJson() => new()
    {
        ["name"] = Name, ["lr"] = LearningRate, ["schedule"] = Schedule, ["decayFactor"] = DecayFactor, ["decayEvery"] = DecayEvery,
        ["momentumStart"] = MomentumStart, ["momentumEnd"] = MomentumEnd, ["momentumRampEpochs"] = MomentumRampEpochs,
        ["beta1"] = Beta1, ["beta2"] = Beta2, ["rho"] = Rho, ["epsilon"] = Epsilon,
    };

    internal static OptimizerConfig FromJson(StrictJson json)
    {
        string name = json.String("name", "momentum");
        OptimizerConfig d;
        try { d = Defaults(name); }
        catch (ArgumentException e) { throw json.Invalid("name", e.Message); }
        var config = new OptimizerConfig
        {
            Name = name,
            LearningRate = json.Float("lr", d.LearningRate),
            Schedule = json.String("schedule", d.Schedule),
            DecayFactor = json.Float("decayFactor", d.DecayFactor),
            DecayEvery = json.Int("decayEvery", d.DecayEvery),
            MomentumStart = json.Float("momentumStart", d.MomentumStart),
            MomentumEnd = json.Float("momentumEnd", d.MomentumEnd),
            MomentumRampEpochs = json.Int("momentumRampEpochs", d.MomentumRampEpochs),
            Beta1 = json.Float("beta1", d.Beta1),
            Beta2 = json.Float("beta2", d.Beta2),
            Rho = json.Float("rho", d.Rho),
            Epsilon = json.Float("epsilon", d.Epsilon),
        };
        json.RejectUnknownKeys("name, lr, schedule, decayFactor, decayEvery, momentumStart, momentumEnd, momentumRampEpochs, beta1, beta2, rho, epsilon");
        if (config.Schedule is not ("constant" or "step" or "exponential"))
            throw json.Invalid("schedule", $"is '{config.Schedule}'; expected constant, step or exponential.");
        if (!(config.LearningRate > 0f)) throw json.Invalid("lr", $"must be positive, got {config.LearningRate}.");
        return config;
    }
}

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
    public JsonObject ToJson() => new()
    {
        ["architecture"] = Architecture.ToJson(),
        ["optimizer"] = Optimizer.ToJson(),
        ["regularization"] = new JsonObject { ["weightDecay"] = WeightDecay, ["maxNorm"] = MaxNorm, ["clipNorm"] = ClipNorm },
        ["training"] = new JsonObject
        {
            ["epochs"] = Training.Epochs, ["batch"] = Training.BatchSize, ["seed"] = Training.Seed,
            ["patience"] = Training.Patience, ["validation"] = ValidationFraction, ["normalize"] = Normalize,
        },
    };

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
            };
            validation = t.Float("validation", 0f);
            normalize = t.Bool("normalize", false);
            t.RejectUnknownKeys("epochs, batch, seed, patience, validation, normalize");
            if (training.Epochs < 0) throw t.Invalid("epochs", $"must be >= 0, got {training.Epochs}.");
            if (training.BatchSize < 0) throw t.Invalid("batch", $"must be >= 0 (0 = full batch), got {training.BatchSize}.");
            if (validation is < 0 or >= 1) throw t.Invalid("validation", $"must be in [0, 1), got {validation}.");
        }
        json.RejectUnknownKeys("architecture, optimizer, regularization, training");
        return new TrainingConfig
        {
            Architecture = architecture, Optimizer = optimizer, WeightDecay = weightDecay, MaxNorm = maxNorm, ClipNorm = clipNorm,
            Training = training, ValidationFraction = validation, Normalize = normalize,
        };
    }
}

/// <summary>The named configurations <c>shinso train</c> accepts.</summary>
public static class Presets
{
    /// <summary>Preset names.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mlp-dropout", "mlp-dbn-shape", "linreg", "lenet5", "cifar-18pct", "fashion-cnn"];

    /// <summary>The preset called <paramref name="name"/>, or null.</summary>
    public static TrainingConfig? Find(string name) => name switch
    {
        // Srivastava et al. 2014: ReLU units, dropout 0.2 on inputs and 0.5 on hidden units, max-norm on
        // incoming weights. Adam instead of the paper's momentum SGD: with this much dropout, momentum SGD
        // still underfits Fashion-MNIST after 80 epochs (88.7% test), Adam reaches 89.5% in 60.
        "mlp-dropout" => new TrainingConfig
        {
            Architecture = new FeedForwardSpec([784],
            [
                LayerSpec.Dropout(0.2f),
                LayerSpec.Dense(800, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dropout(0.5f),
                LayerSpec.Dense(800, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dropout(0.5f),
                LayerSpec.Dense(10, WeightInit.GlorotUniform),
            ], "softmax-cross-entropy"),
            Optimizer = OptimizerConfig.Defaults("adam") with { Schedule = "exponential", DecayFactor = 0.97f },
            MaxNorm = 3.5f,
            Training = new TrainingOptions { Epochs = 60, BatchSize = 100, Seed = 1 },
        },
        // The shape of Hinton et al. 2006's DBN, trained here by backprop alone from random weights.
        "mlp-dbn-shape" => new TrainingConfig
        {
            Architecture = new FeedForwardSpec([784],
            [
                LayerSpec.Dense(500), LayerSpec.Of("sigmoid"),
                LayerSpec.Dense(500), LayerSpec.Of("sigmoid"),
                LayerSpec.Dense(2000), LayerSpec.Of("sigmoid"),
                LayerSpec.Dense(10),
            ], "softmax-cross-entropy"),
            Optimizer = new OptimizerConfig { Name = "momentum", LearningRate = 0.1f, MomentumStart = 0.9f, MomentumEnd = 0.9f },
            Training = new TrainingOptions { Epochs = 10, BatchSize = 100, Seed = 1 },
        },
        // Multiple linear regression of the one-hot class vector on the pixels by gradient descent on
        // squared error: the linear least-squares classifier (predicted class = largest output).
        "linreg" => new TrainingConfig
        {
            Architecture = new FeedForwardSpec([784], [LayerSpec.Dense(10, WeightInit.SmallGaussian, 0f)], "squared-error"),
            Optimizer = new OptimizerConfig { Name = "sgd", LearningRate = 0.01f },
            Training = new TrainingOptions { Epochs = 20, BatchSize = 100, Seed = 1 },
        },
        // LeCun et al. 1998's shape on 28x28 inputs with ReLU and max pooling (as the PyTorch anchor):
        // 6@5x5 pad 2 -> pool 2 -> 16@5x5 -> pool 2 -> 120 -> 84 -> 10.
        "lenet5" => new TrainingConfig
        {
            Architecture = new FeedForwardSpec([1, 28, 28],
            [
                LayerSpec.Conv(6, 5, pad: 2), LayerSpec.Of("relu"), LayerSpec.Pool("maxpool", 2),
                LayerSpec.Conv(16, 5), LayerSpec.Of("relu"), LayerSpec.Pool("maxpool", 2),
                LayerSpec.Of("flatten"),
                LayerSpec.Dense(120, WeightInit.HeNormal), LayerSpec.Of("relu"),
                LayerSpec.Dense(84, WeightInit.HeNormal), LayerSpec.Of("relu"),
                LayerSpec.Dense(10, WeightInit.GlorotUniform),
            ], "softmax-cross-entropy"),
            // Without weight decay the net overfits (15 epochs: 89.52%, test loss 0.33 vs train 0.20; 30 epochs: 89.48%,
            // test loss 0.51); weight decay 5e-4 over 20 epochs gives 90.32%.
            Optimizer = new OptimizerConfig { Name = "momentum", LearningRate = 0.05f, Schedule = "exponential", DecayFactor = 0.9f },
            WeightDecay = 5e-4f,
            Training = new TrainingOptions { Epochs = 20, BatchSize = 100, Seed = 1 },
        },
        // cuda-convnet's layers-18pct (Krizhevsky): ceil-mode 3/2 pooling (32 -> 16 -> 8 -> 4), LRN over 3 channels,
        // the paper's small-Gaussian initial weights, weight decay 0.004 and momentum 0.9. Input: CIFAR-10 [3, 32, 32].
        "cifar-18pct" => new TrainingConfig
        {
            Architecture = new FeedForwardSpec([3, 32, 32],
            [
                LayerSpec.Conv(32, 5, pad: 2, init: WeightInit.SmallGaussian, sigma: 1e-4f),
                LayerSpec.Pool("maxpool", 3, 2, ceil: true), LayerSpec.Of("relu"), LayerSpec.Lrn(3, 5e-5f, 0.75f, 1f),
                LayerSpec.Conv(32, 5, pad: 2, init: WeightInit.SmallGaussian, sigma: 0.01f), LayerSpec.Of("relu"),
                LayerSpec.Pool("avgpool", 3, 2, ceil: true), LayerSpec.Lrn(3, 5e-5f, 0.75f, 1f),
                LayerSpec.Conv(64, 5, pad: 2, init: WeightInit.SmallGaussian, sigma: 0.01f), LayerSpec.Of("relu"),
                LayerSpec.Pool("avgpool", 3, 2, ceil: true),
                LayerSpec.Of("flatten"),
                LayerSpec.Dense(10, WeightInit.SmallGaussian, 0.01f),
            ], "softmax-cross-entropy"),
            Optimizer = new OptimizerConfig { Name = "momentum", LearningRate = 0.01f, MomentumStart = 0.9f, MomentumEnd = 0.9f },
            WeightDecay = 0.004f,
            Training = new TrainingOptions { Epochs = 100, BatchSize = 128, Seed = 1 },
        },
        // Two conv + max-pool stages and a dense layer with dropout, on Fashion-MNIST's [1, 28, 28] images.
        "fashion-cnn" => new TrainingConfig
        {
            Architecture = new FeedForwardSpec([1, 28, 28],
            [
                LayerSpec.Conv(32, 5, pad: 2), LayerSpec.Of("relu"), LayerSpec.Pool("maxpool", 2),
                LayerSpec.Conv(64, 5, pad: 2), LayerSpec.Of("relu"), LayerSpec.Pool("maxpool", 2),
                LayerSpec.Of("flatten"),
                LayerSpec.Dense(1024, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dropout(0.5f),
                LayerSpec.Dense(10, WeightInit.GlorotUniform),
            ], "softmax-cross-entropy"),
            Optimizer = new OptimizerConfig { Name = "momentum", LearningRate = 0.05f, Schedule = "exponential", DecayFactor = 0.9f },
            Training = new TrainingOptions { Epochs = 20, BatchSize = 100, Seed = 1 },
        },
        _ => null,
    };
}
