namespace Shinso.Cli.Repro;

/// <summary>Every experiment <c>shinso repro</c> knows, in the order <c>repro list</c> prints them; a new one is one line here.</summary>
internal static class ExperimentRegistry
{
    /// <summary>The experiments.</summary>
    public static IReadOnlyList<Experiment> All { get; } = [new HubbleExperiment(), new LogicExperiment(), new PerceptronExperiment(), new Dbn2006Experiment(), new RbmAisExperiment(), new DropoutExperiment(), new DeepAutoencoderExperiment(), new KfacAutoencoderExperiment(), new PretrainingExperiment(), new SparseCodingExperiment(), new TicaExperiment(), new TiledCnnExperiment(), new RandomFiltersExperiment(), new ConvolutionalDbnExperiment(), new TransferExperiment(), new DistillationExperiment(), new NoiseRobustnessExperiment(), new DbmExperiment(), new MarginalizedMeanFieldExperiment(), new OptimizersExperiment()];

    /// <summary>The experiment called <paramref name="name"/>, or null.</summary>
    public static Experiment? Find(string name) => All.FirstOrDefault(e => e.Name == name);
}
