using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Training;

namespace Shinso.Models.Autoencoders;

/// <summary>A named autoencoder run: the net and its training, the layer-wise pretraining before it (or none), and whether it classifies.</summary>
/// <param name="Config">The net (with a code layer, unless it classifies) and its backprop training.</param>
/// <param name="Pretraining">Greedy layer-wise pretraining before backprop, or null.</param>
/// <param name="Classifies">Whether the net is a classifier trained on labels (stacked pretraining), not a reconstruction.</param>
public sealed record AutoencoderPreset(TrainingConfig Config, PretrainingOptions? Pretraining, bool Classifies = false);

/// <summary>The autoencoder presets, sized for any input length (the data set's).</summary>
public static class AutoencoderPresets
{
    /// <summary>The presets.</summary>
    public static IReadOnlyList<string> Names { get; } = ["autoencoder", "sparse-autoencoder", "denoising-autoencoder", "deep-autoencoder", "stacked-autoencoder"];

    /// <summary>The code size of each reconstruction preset when none is asked for.</summary>
    public static int DefaultCode(string name) => name switch
    {
        "autoencoder" => 128,
        "sparse-autoencoder" => 196,
        "denoising-autoencoder" => 500,
        "deep-autoencoder" => 30,
        _ => throw new ArgumentException($"'{name}' has no code size.", nameof(name)),
    };

    /// <summary>The preset <paramref name="name"/> for rows of <paramref name="inputs"/> values, its code of <paramref name="code"/> units (null: the default), or null for another name.</summary>
    /// <exception cref="ArgumentException">The code is not positive, is larger than the input, or is given to the classifier preset; the message names <c>--code</c>.</exception>
    public static AutoencoderPreset? Find(string name, int inputs, int? code = null)
    {
        if (!Names.Contains(name)) return null;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs);
        if (name == "stacked-autoencoder")
        {
            if (code is not null) throw new ArgumentException("--code: stacked-autoencoder is a classifier, which has no code.", nameof(code));
            return Stacked(inputs);
        }
        int units = code ?? DefaultCode(name);
        if (units < 1) throw new ArgumentException($"--code: the code needs at least one unit, got {units}.", nameof(code));
        // An undercomplete code is what makes the plain and the deep autoencoder learn features rather than the identity;
        // the sparse and the denoising ones are regularised and may be overcomplete.
        if (units > inputs && name is "autoencoder" or "deep-autoencoder")
            throw new ArgumentException($"--code: {units} code units for {inputs} inputs; a code larger than its input can copy it, so {name} needs at most {inputs}.", nameof(code));
        var adam = OptimizerConfig.Defaults("adam");
        return name switch
        {
            // One sigmoid hidden layer, untied weights, cross-entropy reconstruction of inputs in [0, 1].
            "autoencoder" => new AutoencoderPreset(new TrainingConfig
            {
                Architecture = new FeedForwardSpec([inputs],
                [
                    new DenseSpec(units, WeightInit.GlorotUniform), new ActivationSpec(Operations.Activation.Sigmoid), new CodeSpec(),
                    new DenseSpec(inputs, WeightInit.GlorotUniform),
                ], "binary-cross-entropy"),
                Optimizer = adam,
                Training = new TrainingOptions { Epochs = 20, BatchSize = 100, Seed = 1 },
            }, null),
            // UFLDL's sparse autoencoder: sigmoid hidden and output units, squared error, KL sparsity (rho 0.05, beta 3),
            // weight decay 1e-4 (UFLDL minimises with L-BFGS; Adam here).
            "sparse-autoencoder" => new AutoencoderPreset(new TrainingConfig
            {
                Architecture = new FeedForwardSpec([inputs],
                [
                    new DenseSpec(units, WeightInit.GlorotUniform), new ActivationSpec(Operations.Activation.Sigmoid), new SparsitySpec(0.05f, 3f),
                    new CodeSpec(), new DenseSpec(inputs, WeightInit.GlorotUniform), new ActivationSpec(Operations.Activation.Sigmoid),
                ], "squared-error"),
                Optimizer = adam,
                WeightDecay = 1e-4f,
                Training = new TrainingOptions { Epochs = 20, BatchSize = 100, Seed = 1 },
            }, null),
            // Vincent et al. 2008: masking noise on a quarter of the inputs, tied weights, sigmoid units, cross-entropy.
            "denoising-autoencoder" => new AutoencoderPreset(new TrainingConfig
            {
                Architecture = new FeedForwardSpec([inputs],
                [
                    new NoiseSpec(NoiseKind.Masking, 0.25f), new DenseSpec(units, WeightInit.GlorotUniform),
                    new ActivationSpec(Operations.Activation.Sigmoid), new CodeSpec(), new TiedSpec(1),
                ], "binary-cross-entropy"),
                Optimizer = adam,
                Training = new TrainingOptions { Epochs = 20, BatchSize = 100, Seed = 1 },
            }, null),
            // Hinton & Salakhutdinov 2006: 784-1000-500-250-30 with a linear code, RBM pretraining, unrolled into an untied
            // decoder and fine-tuned with cross-entropy (the paper uses conjugate gradients; Adam here). Chosen on a 50,000 /
            // 10,000 validation split of Fashion-MNIST's training set, 10 pretraining epochs a layer, validation error / PCA-30's:
            // Adam lr 3e-4 for 30 epochs 0.590, lr 1e-3 for 30 epochs 0.512, lr 1e-3 for 60 epochs 0.486 (5.96 against 12.27).
            "deep-autoencoder" => new AutoencoderPreset(new TrainingConfig
            {
                Architecture = new FeedForwardSpec([inputs],
                [
                    new DenseSpec(1000), new ActivationSpec(Operations.Activation.Sigmoid),
                    new DenseSpec(500), new ActivationSpec(Operations.Activation.Sigmoid),
                    new DenseSpec(250), new ActivationSpec(Operations.Activation.Sigmoid),
                    new DenseSpec(units), new CodeSpec(),
                    new DenseSpec(250), new ActivationSpec(Operations.Activation.Sigmoid),
                    new DenseSpec(500), new ActivationSpec(Operations.Activation.Sigmoid),
                    new DenseSpec(1000), new ActivationSpec(Operations.Activation.Sigmoid),
                    new DenseSpec(inputs),
                ], "binary-cross-entropy"),
                Optimizer = adam,
                Training = new TrainingOptions { Epochs = 60, BatchSize = 100, Seed = 1 },
            }, new PretrainingOptions { Method = Pretrainer.Rbm, Epochs = 10, BatchSize = 100, Seed = 1 }),
            _ => null,
        };
    }

    /// <summary>The shape of Hinton et al. 2006's DBN (784-500-500-2000-10, sigmoid), each hidden layer pretrained as a tied autoencoder, then fine-tuned as mlp-dbn-shape trains from random weights.</summary>
    private static AutoencoderPreset Stacked(int inputs)
    {
        var randomInit = Presets.Find("mlp-dbn-shape")!;
        return new AutoencoderPreset(randomInit with { Architecture = randomInit.Architecture with { InputShape = [inputs] } },
            new PretrainingOptions { Method = Pretrainer.Autoencoder, Epochs = 5, BatchSize = 100, Seed = 1 }, Classifies: true);
    }
}
