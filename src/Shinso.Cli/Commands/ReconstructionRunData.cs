using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.Models.Autoencoders;
using Shinso.Models.ComponentAnalysis;
using Shinso.Models.FeedForward;
using Shinso.Training;

namespace Shinso.Cli.Commands;

/// <summary>
/// An autoencoder's rows: any data set <c>--data</c> names, each sample its own target (labels kept only for pictures).
/// Its figures are the test set's reconstruction error and that of PCA with as many components as the code has units,
/// fitted on the same training rows.
/// </summary>
internal sealed class ReconstructionRunData(LoadedData data) : RunData
{
    public override string Description => data.Description;

    public override bool IsRegression => false;

    /// <summary>The loaded data set.</summary>
    public LoadedData Data => data;

    /// <summary>The PCA the last <see cref="Figures"/> fitted (null before).</summary>
    public PrincipalComponents? Pca { get; private set; }

    public override PreparedRows Prepare(TrainingConfig config, string run)
    {
        CommonOptions.RequireFeatures(data, config.Architecture.InputLength, run);
        int inputs = config.Architecture.InputLength, outputs = config.Architecture.OutputLength;
        if (outputs != inputs)
            throw new UsageException($"{run}: an autoencoder's output reconstructs its input, so it needs {inputs} outputs; its last layer gives {outputs}.");
        if (config.Normalize)
            throw new UsageException($"{run}: an autoencoder reconstructs its inputs as given; turn standardisation off (\"normalize\": false or --standardize false).");
        if (config.Architecture.Loss == "binary-cross-entropy")
            foreach (var set in new[] { data.Train, data.Test })
                if (Autoencoder.FirstOutsideUnitInterval(set.Features) is var at and >= 0)
                    throw new UsageException($"--data: a value {set.Features[at].ToString(CultureInfo.InvariantCulture)} lies outside [0, 1]; {run} reconstructs with cross-entropy, " +
                                             "which needs inputs in [0, 1] (byte images are scaled so); use a squared-error config for other data.");
        var train = data.Train;
        Dataset? validation = null;
        if (config.ValidationFraction > 0) (train, validation) = train.Split(config.ValidationFraction, config.Training.Seed);
        return new PreparedRows(Rows(train), validation is null ? null : Rows(validation), Rows(data.Test), null, []);
    }

    /// <summary>A data set's samples as their own targets.</summary>
    public static SupervisedData Rows(Dataset set) => new(set.Features, set.FeatureCount, set.Features, set.FeatureCount);

    public override (JsonObject? Figures, IReadOnlyList<string> Lines) Figures(FeedForwardNet net, PreparedRows rows)
    {
        int code = Autoencoder.CodeLength(net);
        double error = Autoencoder.ReconstructionError(net, rows.Test.Inputs);
        var figures = new JsonObject { ["reconstruction_error"] = error, ["code_units"] = code };
        var lines = new List<string> { $"test reconstruction error {error:F3} (squared error summed over each image's {net.Spec.InputLength} values, mean over {rows.Test.Count} images)" };
        if (code <= net.Spec.InputLength)
        {
            Pca = PrincipalComponents.Fit(net.Backend, rows.Fit.Inputs, net.Spec.InputLength, code);
            double pca = Pca.ReconstructionError(net.Backend, rows.Test.Inputs);
            figures["pca_reconstruction_error"] = pca;
            figures["ratio_to_pca"] = pca > 0 ? error / pca : null;
            lines.Add($"PCA with {code} components (fitted on the same {rows.Fit.Count} training images): {pca:F3}; autoencoder / PCA = {(pca > 0 ? error / pca : double.NaN):F3}");
        }
        else lines.Add($"no PCA baseline: the code's {code} units exceed the input's {net.Spec.InputLength} values");
        return (figures, lines);
    }

    public override void CheckResume(JsonObject? saved, string directory)
    {
        if (saved?["table"] is JsonObject table)
            throw new UsageException($"--resume: {directory} fits a table's column; resume it with --data TABLE --target {RegressionRunData.TargetArgument(table)} as it was started.");
    }
}
