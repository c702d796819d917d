using Shinso.Backends;

namespace Shinso.Cli.Repro;

/// <summary>What an experiment runs with: the options of <c>shinso repro NAME</c>.</summary>
/// <param name="Data">The data the user named (<c>--data</c>), or null for the experiment's default.</param>
/// <param name="Quick">Run the reduced version (under two minutes on two cores).</param>
/// <param name="Seed">Seeds every random stream of the run.</param>
/// <param name="OutDirectory">The run folder: the report and its pictures go here.</param>
/// <param name="Backend">Where models train.</param>
internal sealed record ExperimentContext(string? Data, bool Quick, ulong Seed, string OutDirectory, IBackend Backend)
{
    /// <summary>The <c>--source-data</c> of an experiment that takes a second data set (<see cref="Experiment.SourceDataHelp"/>), or null.</summary>
    public string? SourceData { get; init; }
}

/// <summary>
/// One of the seeds' experiments, runnable: what it claims and where the claim comes from, and a run that measures
/// ours beside the paper's figure. An experiment is one file registered once in <see cref="ExperimentRegistry"/>.
/// </summary>
internal abstract class Experiment
{
    /// <summary>The name <c>shinso repro NAME</c> takes.</summary>
    public abstract string Name { get; }

    /// <summary>The paper (authors, year, venue).</summary>
    public abstract string Paper { get; }

    /// <summary>The data it runs on by default.</summary>
    public abstract string Dataset { get; }

    /// <summary>The claim checked, in a sentence.</summary>
    public abstract string Claim { get; }

    /// <summary>The expected run time on two cores, e.g. <c>2 s</c>.</summary>
    public abstract string ExpectedTime { get; }

    /// <summary>Whether <c>--data</c> applies (an experiment on fixed inputs, such as truth tables, refuses it).</summary>
    public virtual bool TakesData => true;

    /// <summary>The help of <c>--source-data</c> for an experiment that can take a second data set, or null (the option is not offered).</summary>
    public virtual string? SourceDataHelp => null;

    /// <summary>What <c>--quick</c> changes, for the option's help.</summary>
    public abstract string QuickVersion { get; }

    /// <summary>Runs the experiment and returns its report (the caller writes it).</summary>
    public abstract ExperimentReport Run(ExperimentContext context);
}
