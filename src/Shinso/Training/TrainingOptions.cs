namespace Shinso.Training;

/// <summary>How a <see cref="Trainer"/> runs.</summary>
public sealed record TrainingOptions
{
    /// <summary>Epochs to train in total (a resumed run counts the epochs already done).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Samples per update: 1 is online learning, 0 (or at least the set size) is full-batch.</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Seeds the shuffling and the dropout masks.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Stop when the validation loss has not improved for this many epochs (0: never stop early).</summary>
    public int Patience { get; init; }

    /// <summary>
    /// Indices of layers whose parameters stay as they are (frozen): the optimizer never sees them and backpropagation stops
    /// below the lowest layer that still trains, e.g. random convolution filters with only the classifier on top trained.
    /// </summary>
    public IReadOnlyList<int> FrozenLayers { get; init; } = [];

    /// <summary>
    /// Learning-rate multipliers by layer index (a layer not named trains at the plain rate): e.g. 0.1 on layers copied from
    /// another net, fine-tuned gently while the new layers on top learn at full speed. Each must be positive; a layer that
    /// should not move is frozen instead.
    /// </summary>
    public IReadOnlyDictionary<int, float> LearningRateMultipliers { get; init; } = new Dictionary<int, float>();

    /// <summary>Random distortions applied to each training minibatch before it is uploaded (null: none); validation and test images are left alone.</summary>
    public Data.ImageAugmentation? Augmentation { get; init; }

    /// <summary>Train on saved teachers' outputs (model compression) instead of, or mixed with, the labels (null: the labels alone);
    /// the trainer is given the teacher nets themselves.</summary>
    public Distillation? Distillation { get; init; }
}
