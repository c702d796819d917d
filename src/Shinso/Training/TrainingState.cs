namespace Shinso.Training;

/// <summary>Everything a resumed run needs besides the parameters and optimizer state.</summary>
public sealed class TrainingState
{
    /// <summary>Epochs completed.</summary>
    public int EpochsDone { get; set; }

    /// <summary>Updates performed (addresses the dropout masks).</summary>
    public long Step { get; set; }

    /// <summary>The best validation loss so far (early stopping).</summary>
    public double BestValidationLoss { get; set; } = double.PositiveInfinity;

    /// <summary>The epoch that reached it.</summary>
    public int BestEpoch { get; set; }

    /// <summary>True once early stopping has fired.</summary>
    public bool Stopped { get; set; }

    /// <summary>The metrics of every epoch so far.</summary>
    public List<EpochMetrics> History { get; } = [];

    /// <summary>Parameter values at the best epoch (host copies), when early stopping is on.</summary>
    public Dictionary<string, float[]> BestParameters { get; } = [];
}
