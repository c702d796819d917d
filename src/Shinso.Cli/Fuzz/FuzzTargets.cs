using System.IO.Compression;
using System.Text;
using Shinso.Backends;
using Shinso.Data;
using Shinso.IO;
using Shinso.Kernels.Cpu;
using Shinso.Layers;
using Shinso.Models.Boltzmann;
using Shinso.Models.FeedForward;

namespace Shinso.Cli.Fuzz;

/// <summary>
/// A format Shinso reads: a small valid file of it, the real loader, and the exception types that loader documents for
/// a bad file (whose messages must name the file).
/// </summary>
/// <param name="Name">The format's name on the command line.</param>
/// <param name="FileName">The name the mutated file is written under (the loaders detect some formats by it).</param>
/// <param name="Seed">Writes the valid file's bytes.</param>
/// <param name="Load">Runs the loader on a path.</param>
/// <param name="Checksummed">Whether every byte of the format is covered by a checksum (model files and checkpoints): a
/// mutant that loads must then be byte-identical to the original.</param>
internal sealed record FuzzTarget(string Name, string FileName, Func<byte[]> Seed, Action<string> Load, bool Checksummed = false)
{
    /// <summary>
    /// Whether <paramref name="e"/> is a documented rejection: a <see cref="FormatException"/> naming the file, not one
    /// that wraps a programming error (an index or null fault turned into a format message would hide a bug).
    /// </summary>
    public static bool Documented(Exception e, string path)
    {
        if (e is not FormatException || !e.Message.Contains(path, StringComparison.Ordinal)) return false;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            if (inner is ArgumentOutOfRangeException or ArgumentNullException or IndexOutOfRangeException or NullReferenceException
                or InvalidCastException or OverflowException or OutOfMemoryException) return false;
        return true;
    }
}

/// <summary>The formats the fuzzer covers, registered once.</summary>
internal static class FuzzTargets
{
    private static readonly CpuBackend Backend = new(new CpuKernelOptions(SimdPath.Auto, Threads: 1));

    /// <summary>Every target.</summary>
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new("model", "model.shinso", FeedForwardModel, path => FeedForwardModelFile.FromDocument(ModelFile.Read(path), path, Backend), Checksummed: true),
        new("rbm", "rbm.shinso", RbmModel, path => RbmModelFile.FromDocument(ModelFile.Read(path), path, Backend), Checksummed: true),
        new("dbn", "dbn.shinso", DbnModel, path => DbnModelFile.FromDocument(ModelFile.Read(path), path, Backend), Checksummed: true),
        new("checkpoint", Training.Checkpoint.FileName, CheckpointFile, path => Training.Checkpoint.Load(Path.GetDirectoryName(path)!, Backend), Checksummed: true),
        new("idx", "train-images-idx3-ubyte", IdxImages, path => IdxReader.ReadImages(path)),
        new("idx-gz", "train-images-idx3-ubyte.gz", () => Gzip(IdxImages()), path => IdxReader.ReadImages(path)),
        new("cifar", "data_batch_1.bin", CifarBatch, path => Cifar10.ReadBatches(path)),
        new("npz", "data.npz", Npz, path => NumpyArchive.ReadArchive(path)),
        new("csv", "train.csv", () => Encoding.ASCII.GetBytes("label,a,b,c\n1,0,255,17\n0,3,4,5\n2,250,1,0\n"), path => CsvTable.Read(path)),
        new("table", "table.csv", () => Encoding.ASCII.GetBytes("x,y,price\n1.5,2,10.25\n-3,4e2,11\n0.125,7,12.5\n"), path => NumericTable.Read(path)),
        new("config", "config.json", Config, path => Commands.TrainCommand.LoadConfig(path)),
        new("onnx", "model.onnx", OnnxModelBytes, path => Onnx.Import.OnnxModel.Load(path)),
    ];

    /// <summary>A small convolutional net as Shinso exports it: initialisers, int64 shape constants, attributes of several kinds.</summary>
    private static byte[] OnnxModelBytes() => ViaFile("model.onnx", path =>
    {
        var spec = new FeedForwardSpec([1, 6, 6], [LayerSpec.Conv(2, 3), LayerSpec.Of("relu"), LayerSpec.Pool("maxpool", 2), LayerSpec.Of("flatten"), LayerSpec.Dense(3)],
            "softmax-cross-entropy");
        Onnx.OnnxExporter.Export(new FeedForwardNet(Backend, spec, 4), path);
    });

    private static byte[] Gzip(byte[] raw)
    {
        using var stream = new MemoryStream();
        using (var gzip = new GZipStream(stream, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(raw);
        return stream.ToArray();
    }

    private static byte[] ViaFile(string name, Action<string> write)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"shinso-fuzz-seed-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            string path = Path.Combine(folder, name);
            write(path);
            return File.ReadAllBytes(path);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    /// <summary>A tied, sparse, denoising autoencoder with a convolution-free stack: every layer kind with fields of the autoencoder family, and dense ones.</summary>
    private static byte[] FeedForwardModel() => ViaFile("model.shinso", path =>
    {
        var spec = new FeedForwardSpec([6],
        [
            new NoiseSpec(NoiseKind.Masking, 0.2f), LayerSpec.Dense(3), LayerSpec.Of("sigmoid"), new SparsitySpec(), LayerSpec.Of("code"), new TiedSpec(1),
        ], "binary-cross-entropy");
        FeedForwardModelFile.Save(new FeedForwardNet(Backend, spec, 3), path, new Training.TrainingConfig { Architecture = spec }.ToJson(),
            kind: Models.Autoencoders.Autoencoder.FileKind);
    });

    private static byte[] RbmModel() => ViaFile("rbm.shinso", path => RbmModelFile.Save(new RestrictedBoltzmannMachine(Backend, 5, 3, seed: 2), path));

    private static byte[] DbnModel() => ViaFile("dbn.shinso", path => DbnModelFile.Save(new DeepBeliefNet(Backend, [6, 4, 3], 2, seed: 5), path));

    /// <summary>A checkpoint of a small net after one momentum step, so that it carries optimizer state and a run position.</summary>
    private static byte[] CheckpointFile() => ViaFile(Training.Checkpoint.FileName, path =>
    {
        var spec = new FeedForwardSpec([4], [LayerSpec.Dense(3), LayerSpec.Of("relu"), LayerSpec.Dense(2)], "softmax-cross-entropy");
        var config = new Training.TrainingConfig { Architecture = spec, Training = new Training.TrainingOptions { Epochs = 1, BatchSize = 2, Seed = 3 } };
        var net = new FeedForwardNet(Backend, spec, 3);
        var optimizer = config.CreateOptimizer();
        var trainer = new Training.Trainer(net, optimizer, config.Training);
        trainer.Fit(new Training.SupervisedData([0, 1, 2, 3, 4, 5, 6, 7], 4, [1, 0, 0, 1], 2, [0, 1]));
        Training.Checkpoint.Save(Path.GetDirectoryName(path)!, config, net, optimizer, trainer.State);
    });

    /// <summary>Two CIFAR-10 records: a label byte and 3,072 pixel bytes each.</summary>
    private static byte[] CifarBatch()
    {
        var bytes = new byte[2 * Cifar10.RecordLength];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(i * 7);
        bytes[0] = 3;
        bytes[Cifar10.RecordLength] = 9;
        return bytes;
    }

    private static byte[] IdxImages()
    {
        // Magic 0x00000803 (unsigned bytes, 3 dimensions), 2 images of 3 x 3.
        var bytes = new List<byte> { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3 };
        for (int i = 0; i < 18; i++) bytes.Add((byte)(i * 13));
        return [.. bytes];
    }

    private static byte[] Npy(string descr, string shape, byte[] payload)
    {
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        var bytes = new List<byte> { 0x93 };
        bytes.AddRange("NUMPY"u8.ToArray());
        bytes.AddRange([1, 0, (byte)(header.Length & 0xFF), (byte)(header.Length >> 8)]);
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        bytes.AddRange(payload);
        return [.. bytes];
    }

    private static byte[] Npz()
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, npy) in new[]
            {
                ("x_train.npy", Npy("|u1", "(2, 2, 2)", [1, 2, 3, 4, 5, 6, 7, 8])), ("y_train.npy", Npy("|u1", "(2,)", [0, 1])),
                ("x_test.npy", Npy("|u1", "(1, 2, 2)", [9, 10, 11, 12])), ("y_test.npy", Npy("|u1", "(1,)", [1])),
            })
            {
                using var entry = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                entry.Write(npy);
            }
        }
        return stream.ToArray();
    }

    private static byte[] Config() => Encoding.UTF8.GetBytes("""
        {"architecture": {"input": [1, 6, 6], "loss": "softmax-cross-entropy", "layers": [
           {"type": "conv", "filters": 2, "kernel": 3, "pad": 1}, {"type": "relu"}, {"type": "maxpool", "size": 2},
           {"type": "flatten"}, {"type": "dropout", "rate": 0.5}, {"type": "dense", "units": 4}, {"type": "sigmoid"},
           {"type": "tied", "to": 5}, {"type": "dense", "units": 3}]},
         "optimizer": {"name": "adam", "lr": 0.001}, "regularization": {"weightDecay": 0.0001},
         "training": {"epochs": 2, "batch": 10, "seed": 4, "validation": 0.1}}
        """);
}
