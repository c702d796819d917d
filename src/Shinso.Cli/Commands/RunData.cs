using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.Models.FeedForward;
using Shinso.Models.Regression;
using Shinso.Random;
using Shinso.Training;

namespace Shinso.Cli.Commands;

/// <summary>
/// The rows of one run, ready for the trainer: <see cref="Train"/> and <see cref="Validation"/> as the net sees them
/// while it trains (standardised when the config asks), <see cref="TrainRows"/> and <see cref="Test"/> in their own units
/// for the figures of the saved model, which takes raw inputs once the standardisation is folded in.
/// </summary>
internal sealed record PreparedRows(SupervisedData Train, SupervisedData? Validation, SupervisedData TrainRows, SupervisedData Test,
    NormalizationStatistics? Standardization);

/// <summary>What a feed-forward run trains on: labelled samples (classification) or a table's target column (regression).</summary>
internal abstract class RunData
{
    /// <summary>One line for the progress output: the source, the sizes and any conversion applied.</summary>
    public abstract string Description { get; }

    /// <summary>Checks that <paramref name="config"/>'s net fits the data and returns its rows, split and standardised as the config says.</summary>
    public abstract PreparedRows Prepare(TrainingConfig config, string model);

    /// <summary>The figures beyond loss and accuracy for the summary and the model file (null: none), and a line to print.</summary>
    public virtual (JsonObject? Figures, string? Line) Figures(FeedForwardNet net, PreparedRows rows) => (null, null);

    /// <summary>The statistics of <paramref name="train"/>'s inputs, or null when the config does not standardise.</summary>
    protected static NormalizationStatistics? Standardization(TrainingConfig config, SupervisedData train, string model)
    {
        if (!config.Normalize) return null;
        if (config.Architecture.Layers.Count == 0 || config.Architecture.Layers[0] is not DenseSpec)
            throw new UsageException($"{model}: standardised inputs are folded into the first layer's weights so that the saved model takes raw inputs; " +
                                     "the first layer must be dense (or turn standardisation off).");
        return NormalizationStatistics.Compute(train.Inputs, train.Count, train.InputLength);
    }
}

/// <summary>Labelled samples from any data set <c>--data</c> names.</summary>
internal sealed class ClassificationRunData(LoadedData data) : RunData
{
    public override string Description => data.Description;

    public override PreparedRows Prepare(TrainingConfig config, string model)
    {
        CommonOptions.RequireFeatures(data, config.Architecture.InputLength, model);
        int outputs = config.Architecture.OutputLength, classes = Math.Max(data.Train.ClassCount, data.Test.ClassCount);
        var train = CommonOptions.FitClasses(data.Train, outputs, model, classes);
        var test = SupervisedData.FromDataset(CommonOptions.FitClasses(data.Test, outputs, model, classes));
        var trainRows = SupervisedData.FromDataset(train);
        var statistics = Standardization(config, trainRows, model);
        if (statistics is not null) train = train.Normalize(statistics);
        Dataset? validation = null;
        if (config.ValidationFraction > 0) (train, validation) = train.Split(config.ValidationFraction, config.Training.Seed);
        return new PreparedRows(SupervisedData.FromDataset(train), validation is null ? null : SupervisedData.FromDataset(validation),
            trainRows, test, statistics);
    }
}

/// <summary>
/// A table of numbers with a target column (<c>--target</c>): the other columns are the inputs; the test rows come from
/// <c>--test-data</c> or are held out from the table.
/// </summary>
internal sealed class RegressionRunData : RunData
{
    /// <summary>The share of a table held out for testing when no test file is given.</summary>
    public const double HeldOutFraction = 0.2;

    private readonly RegressionTable _train;
    private readonly RegressionTable _test;

    private RegressionRunData(RegressionTable train, RegressionTable test, string description)
    {
        _train = train;
        _test = test;
        Description = description;
    }

    public override string Description { get; }

    /// <summary>The training table.</summary>
    public RegressionTable TrainTable => _train;

    /// <summary>Reads <paramref name="path"/> (and <paramref name="testPath"/>), selecting <paramref name="target"/>; without a test
    /// file, <see cref="HeldOutFraction"/> of the rows are held out by the run's <c>test-split</c> stream.</summary>
    public static RegressionRunData Load(string path, string? testPath, string target, ulong seed)
    {
        var table = NumericTable.Read(path);
        RegressionTable all;
        try { all = RegressionTable.FromTable(table, target); }
        catch (ArgumentException e) { throw new UsageException("--target: " + WithoutParameter(e)); }
        RegressionTable train, test;
        string split;
        if (testPath is null)
        {
            if (all.Count < 2) throw new UsageException($"--data: {path} holds {all.Count} row; give a test file (--test-data) or more rows.");
            (train, test) = all.Split(HeldOutFraction, RandomStream.Root(seed).Derive("test-split"));
            split = $"{HeldOutFraction:P0} of the rows held out for testing";
        }
        else
        {
            var testTable = NumericTable.Read(testPath);
            (train, test) = (all, all.SameColumnsFrom(testTable, table.HasHeader && testTable.HasHeader));
            split = $"test rows from {testPath}";
        }
        string description = string.Create(CultureInfo.InvariantCulture,
            $"table {path}: {train.Count:N0} train / {test.Count:N0} test rows, target {all.TargetName} from {all.InputCount} input{(all.InputCount == 1 ? "" : "s")} " +
            $"({string.Join(", ", all.InputNames)}); {split}");
        return new RegressionRunData(train, test, description);
    }

    public override PreparedRows Prepare(TrainingConfig config, string model)
    {
        var spec = config.Architecture;
        if (spec.Loss != "squared-error")
            throw new UsageException($"{model}: a regression on --target fits squared error; the config's loss is {spec.Loss} (set \"loss\": \"squared-error\").");
        if (spec.OutputLength != 1)
            throw new UsageException($"{model}: the net has {spec.OutputLength} outputs; a regression on one --target column needs a last dense layer of 1 unit.");
        if (spec.InputLength != _train.InputCount)
            throw new UsageException($"--data: the table has {_train.InputCount} input columns ({string.Join(", ", _train.InputNames)}) but {model} takes {spec.InputLength} inputs.");
        var trainRows = _train.ToSupervisedData();
        var statistics = Standardization(config, trainRows, model);
        var train = statistics is null ? trainRows : trainRows.Standardized(statistics);
        SupervisedData? validation = null;
        if (config.ValidationFraction > 0)
        {
            var (fit, held) = _train.Split(config.ValidationFraction, RandomStream.Root(config.Training.Seed).Derive("validation-split"));
            train = statistics is null ? fit.ToSupervisedData() : fit.ToSupervisedData().Standardized(statistics);
            validation = statistics is null ? held.ToSupervisedData() : held.ToSupervisedData().Standardized(statistics);
        }
        return new PreparedRows(train, validation, trainRows, _test.ToSupervisedData(), statistics);
    }

    public override (JsonObject? Figures, string? Line) Figures(FeedForwardNet net, PreparedRows rows)
    {
        var trainFigures = RegressionMetrics.Of(net, rows.TrainRows);
        var testFigures = RegressionMetrics.Of(net, rows.Test);
        var figures = new JsonObject
        {
            ["target"] = _train.TargetName,
            ["inputs"] = new JsonArray([.. _train.InputNames.Select(n => (JsonNode)n)]),
            ["train"] = Json(trainFigures),
            ["test"] = Json(testFigures),
        };
        string line = $"test MSE {Number(testFigures.MeanSquaredError)}, R² {Number(testFigures.RSquared)} (train MSE {Number(trainFigures.MeanSquaredError)})";
        if (LinearFit.FromNet(net) is { } fitted)
        {
            AddCoefficients(figures, fitted);
            line += "; " + Equation(fitted);
        }
        try
        {
            // The closed form on the same training rows: what gradient descent should reach for a linear model, and a
            // baseline for any other.
            var exact = _train.LeastSquaresFit();
            var closedForm = new JsonObject();
            AddCoefficients(closedForm, exact);
            closedForm["train"] = Json(RegressionMetrics.Of(exact.Predict(_train.Inputs, _train.Count), _train.Targets));
            closedForm["test"] = Json(RegressionMetrics.Of(exact.Predict(_test.Inputs, _test.Count), _test.Targets));
            figures["least_squares"] = closedForm;
            line += $"; closed-form least squares: {Equation(exact)}";
        }
        catch (ArgumentException e)
        {
            figures["least_squares"] = null;
            figures["least_squares_note"] = WithoutParameter(e);
        }
        return (figures, line);
    }

    /// <summary>The fit as an equation in the columns' names, e.g. <c>velocity = 454.2 distance - 40.78</c>.</summary>
    public string Equation(LinearFit fit)
    {
        var text = new System.Text.StringBuilder($"{_train.TargetName} = ");
        for (int j = 0; j < fit.Coefficients.Length; j++)
        {
            double c = fit.Coefficients[j];
            text.Append(j == 0 ? (c < 0 ? "-" : "") : (c < 0 ? " - " : " + ")).Append(Number(Math.Abs(c))).Append(' ').Append(_train.InputNames[j]);
        }
        text.Append(fit.Intercept < 0 ? " - " : " + ").Append(Number(Math.Abs(fit.Intercept)));
        return text.ToString();
    }

    private void AddCoefficients(JsonObject json, LinearFit fit)
    {
        var coefficients = new JsonObject();
        for (int j = 0; j < fit.Coefficients.Length; j++) coefficients[_train.InputNames[j]] = fit.Coefficients[j];
        json["coefficients"] = coefficients;
        json["intercept"] = fit.Intercept;
    }

    /// <summary>MSE, R² and rows as JSON (a NaN R², from targets that are all equal, as null).</summary>
    public static JsonObject Json(RegressionMetrics m) => new()
    {
        ["mse"] = m.MeanSquaredError, ["r2"] = double.IsFinite(m.RSquared) ? m.RSquared : null, ["rows"] = m.Count,
    };

    /// <summary>Four significant digits, invariant culture.</summary>
    public static string Number(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string WithoutParameter(ArgumentException e) =>
        e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "");
}
