using System.Text.Json.Nodes;
using Shinso.IO;
using Shinso.Optimizers;

namespace Shinso.Training;

/// <summary>The optimizer part of a <see cref="TrainingConfig"/>.</summary>
public sealed record OptimizerConfig
{
    /// <summary>sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam or kfac.</summary>
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

    /// <summary>K-FAC's Tikhonov damping λ.</summary>
    public float Damping { get; init; } = 1e-2f;

    /// <summary>K-FAC's decay of the running averages of its Kronecker factors.</summary>
    public float StatisticsDecay { get; init; } = 0.95f;

    /// <summary>K-FAC's steps between refreshes of the factors' inverses.</summary>
    public int InverseInterval { get; init; } = 20;

    /// <summary>K-FAC's KL trust region (0: none).</summary>
    public float KlClip { get; init; } = 1e-3f;

    /// <summary>K-FAC's Fisher: <c>sampled</c> (targets from the model's predictions) or <c>empirical</c> (the training targets).</summary>
    public string Fisher { get; init; } = "sampled";

    internal const string Names = "sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, kfac";

    /// <summary>The defaults each paper gives for <paramref name="name"/>.</summary>
    public static OptimizerConfig Defaults(string name) => name switch
    {
        "sgd" => new() { Name = name, LearningRate = 0.1f },
        "momentum" or "nesterov" => new() { Name = name, LearningRate = 0.05f },
        "adagrad" => new() { Name = name, LearningRate = 0.01f },
        "rmsprop" => new() { Name = name, LearningRate = 1e-3f, Rho = 0.9f },
        "adadelta" => new() { Name = name, LearningRate = 1f, Rho = 0.95f, Epsilon = 1e-6f },
        "adam" => new() { Name = name, LearningRate = 1e-3f },
        "kfac" => new() { Name = name, LearningRate = 0.1f },
        _ => throw new ArgumentException($"Unknown optimizer '{name}'; expected one of {Names}.", nameof(name)),
    };

    /// <summary>The learning rate per epoch that <see cref="Schedule"/> and its settings describe.</summary>
    public ISchedule CreateLearningRateSchedule() => Schedule switch
    {
        "step" => new StepDecaySchedule(LearningRate, DecayFactor, DecayEvery),
        "exponential" => new ExponentialDecaySchedule(LearningRate, DecayFactor),
        _ => new ConstantSchedule(LearningRate),
    };

    /// <summary>Creates the optimizer.</summary>
    public Optimizer Create()
    {
        ISchedule lr = CreateLearningRateSchedule();
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
            "kfac" => new Kfac(lr, MomentumStart, Damping, StatisticsDecay, InverseInterval, KlClip,
                Fisher == "empirical" ? FisherTargets.Empirical : FisherTargets.Sampled),
            _ => throw new ArgumentException($"Unknown optimizer '{Name}'; expected one of {Names}.", nameof(Name)),
        };
    }

    internal JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["name"] = Name, ["lr"] = LearningRate, ["schedule"] = Schedule, ["decayFactor"] = DecayFactor, ["decayEvery"] = DecayEvery,
            ["momentumStart"] = MomentumStart, ["momentumEnd"] = MomentumEnd, ["momentumRampEpochs"] = MomentumRampEpochs,
            ["beta1"] = Beta1, ["beta2"] = Beta2, ["rho"] = Rho, ["epsilon"] = Epsilon,
        };
        if (Name == "kfac")
        {
            json["damping"] = Damping;
            json["statisticsDecay"] = StatisticsDecay;
            json["inverseInterval"] = InverseInterval;
            json["klClip"] = KlClip;
            json["fisher"] = Fisher;
        }
        return json;
    }

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
            Damping = json.Float("damping", d.Damping),
            StatisticsDecay = json.Float("statisticsDecay", d.StatisticsDecay),
            InverseInterval = json.Int("inverseInterval", d.InverseInterval),
            KlClip = json.Float("klClip", d.KlClip),
            Fisher = json.String("fisher", d.Fisher),
        };
        json.RejectUnknownKeys("name, lr, schedule, decayFactor, decayEvery, momentumStart, momentumEnd, momentumRampEpochs, beta1, beta2, rho, epsilon, " +
                               "damping, statisticsDecay, inverseInterval, klClip, fisher");
        if (config.Fisher is not ("sampled" or "empirical")) throw json.Invalid("fisher", $"is '{config.Fisher}'; expected sampled or empirical.");
        if (name == "kfac")
        {
            if (!(config.Damping > 0f)) throw json.Invalid("damping", $"must be positive, got {config.Damping}.");
            if (!(config.StatisticsDecay >= 0f && config.StatisticsDecay < 1f)) throw json.Invalid("statisticsDecay", $"must lie in [0, 1), got {config.StatisticsDecay}.");
            if (config.InverseInterval < 1) throw json.Invalid("inverseInterval", $"must be at least 1, got {config.InverseInterval}.");
            if (!(config.KlClip >= 0f)) throw json.Invalid("klClip", $"must be >= 0, got {config.KlClip}.");
            if (!(config.MomentumStart >= 0f && config.MomentumStart < 1f)) throw json.Invalid("momentumStart", $"is K-FAC's momentum, in [0, 1); got {config.MomentumStart}.");
        }
        if (config.Schedule is not ("constant" or "step" or "exponential"))
            throw json.Invalid("schedule", $"is '{config.Schedule}'; expected constant, step or exponential.");
        if (!(config.LearningRate > 0f)) throw json.Invalid("lr", $"must be positive, got {config.LearningRate}.");
        return config;
    }
}
