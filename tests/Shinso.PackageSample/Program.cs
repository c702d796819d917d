// Trains, tests, saves and reloads a net through the Shinso package alone, as the package's README shows.
// Usage: Shinso.PackageSample [FASHION_MNIST_DIR] [MODEL_PATH]; prints one JSON line with the figures.
using System.Globalization;
using Shinso.Backends;
using Shinso.Data;
using Shinso.Models.FeedForward;
using Shinso.Training;

string dataDirectory = args.Length > 0 ? args[0] : "/usr/share/datasets/fashion-mnist";
string modelPath = Path.GetFullPath(args.Length > 1 ? args[1] : "fashion.shinso");

using var backend = new CpuBackend();
var (train, test) = FashionMnist.Load(dataDirectory);
var config = Presets.Find("mlp-dropout")!;
var net = new FeedForwardNet(backend, config.Architecture, seed: 1);
new Trainer(net, config.CreateOptimizer(), config.Training with { Epochs = 2 }).Fit(SupervisedData.FromDataset(train));
var testRows = SupervisedData.FromDataset(test);
double accuracy = Trainer.Evaluate(net, testRows).Accuracy ?? double.NaN;
FeedForwardModelFile.Save(net, modelPath);

// What was saved is what was trained: the reloaded net scores the same on the same rows.
var reloaded = FeedForwardModelFile.Load(modelPath, backend);
double reloadedAccuracy = Trainer.Evaluate(reloaded, testRows).Accuracy ?? double.NaN;

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{{\"train_samples\": {train.Count}, \"test_samples\": {test.Count}, \"accuracy\": {accuracy:R}, \"reloaded_accuracy\": {reloadedAccuracy:R}, \"model_path\": \"{modelPath.Replace("\\", "\\\\")}\"}}"));
