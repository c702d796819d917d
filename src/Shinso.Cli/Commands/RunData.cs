using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.Models.FeedForward;
using Shinso.Models.Regression;
using Shinso.Random;
using Shinso.Training;

namespace Shinso.Cli.Commands;

/// <summary>
/// The rows of one run, ready for the trainer: <see cref="Fit"/> and <see cref="Validation"/> as the net sees them while
/// it trains (standardised when the config asks) and <see cref="Test"/> in its own units, for the figures of the saved
/// model, which takes raw inputs once the standardisation is folded in; <see cref="TargetStandardization"/> is the
/// targets' (regression), folded into the last layer; <see cref="Notes"/> are printed before training (a warning starts
/// with <c>warning:</c>).
/// </summary>
internal sealed record PreparedRows(SupervisedData Fit, SupervisedData? Validation, SupervisedData Test,
    NormalizationStatistics? Standardization, IReadOnlyList<string> Notes, (double Mean, double Deviation)? TargetStandardization = null);

/// <summary>What a feed-forward run trains on: labelled samples (classification) or a table's target column (regression).</summary>
internal abstract class RunData
{
    /// <summary>One line for the progress output: the source, the sizes and any conversion applied.</summary>
    public abstract string Description { get; }

    /// <summary>Whether the run fits real-valued targets (its figures are MSE and R², not accuracy).</summary>
    public abstract bool IsRegression { get; }

    /// <summary>What the run was trained on, kept in its checkpoint so that a resumed run can be checked against it (null: nothing).</summary>
    public virtual JsonObject? Provenance => null;

    /// <summary>Checks <paramref name="config"/>'s net against the data and returns its rows, split and standardised as the config says.</summary>
    /// <param name="config">The run's config.</param>
    /// <param name="run">The run's name, for messages.</param>
    public abstract PreparedRows Prepare(TrainingConfig config, string run);

    /// <summary>The key the figures sit under in the summary's JSON and the model's metadata (null: the summary's top level, the metadata's <c>figures</c>).</summary>
    public virtual string? FiguresKey => null;

    /// <summary>The figures beyond loss and accuracy for the summary and the model file (null: none), and lines to print.</summary>
    public virtual (JsonObject? Figures, IReadOnlyList<string> Lines) Figures(FeedForwardNet net, PreparedRows rows) => (null, []);

    /// <summary>A usage error when the run in a checkpoint (its <see cref="Provenance"/>, or null) was trained on other data.</summary>
    public abstract void CheckResume(JsonObject? saved, string directory);

    /// <summary>Names of a classifier's <paramref name="count"/> classes, for its confusion matrix.</summary>
    public virtual IReadOnlyList<string> ClassNames(int count) => Reports.ConfusionMatrix.Numbered(count);

    /// <summary>A usage error when <paramref name="config"/> standardises inputs its net cannot absorb.</summary>
    protected static void CheckStandardization(TrainingConfig config, string run)
    {
        if (config.Normalize && !config.Architecture.CanAbsorbInputStandardization)
            throw new UsageException($"{run}: standardised inputs are folded into the first layer's weights so that the saved model takes raw inputs; " +
                                     "the first layer (after any dropout or flatten) must be dense, or turn standardisation off (\"normalize\": false or --standardize false).");
    }
}

/// <summary>Labelled samples from any data set <c>--data</c> names.</summary>
internal sealed class ClassificationRunData(LoadedData data) : RunData
{
    public override string Description => data.Description;

    public override bool IsRegression => false;

    public override PreparedRows Prepare(TrainingConfig config, string run)
    {
        CommonOptions.RequireFeatures(data, config.Architecture.InputLength, run);
        CheckStandardization(config, run);
        int outputs = config.Architecture.OutputLength, classes = Math.Max(data.Train.ClassCount, data.Test.ClassCount);
        var train = CommonOptions.FitClasses(data.Train, outputs, run, classes);
        var test = SupervisedData.FromDataset(CommonOptions.FitClasses(data.Test, outputs, run, classes));
        NormalizationStatistics? statistics = null;
        if (config.Normalize) (train, statistics) = train.Normalize();
        Dataset? validation = null;
        if (config.ValidationFraction > 0) (train, validation) = train.Split(config.ValidationFraction, config.Training.Seed);
        return new PreparedRows(SupervisedData.FromDataset(train), validation is null ? null : SupervisedData.FromDataset(validation),
            test, statistics, []);
    }

    public override IReadOnlyList<string> ClassNames(int count) => Reports.ConfusionMatrix.ClassNames(data, count);

    public override void CheckResume(JsonObject? saved, string directory)
    {
        if (saved?["table"] is JsonObject table)
            throw new UsageException($"--resume: {directory} fits a table's column; resume it with --data TABLE --target {RegressionRunData.TargetArgument(table)} as it was started.");
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

    /// <summary>The purpose of the stream that holds test rows out of a table.</summary>
    public const string TestSplitPurpose = "test-split";

    private readonly RegressionTable _train;
    private readonly RegressionTable _test;
    private readonly bool _named;
    private readonly string _tableHash;
    private readonly string? _testHash;
    private RegressionTable? _fit;

    private RegressionRunData(RegressionTable train, RegressionTable test, bool named, string tableHash, string? testHash, string description)
    {
        _train = train;
        _test = test;
        _named = named;
        _tableHash = tableHash;
        _testHash = testHash;
        Description = description;
    }

    public override string Description { get; }

    public override bool IsRegression => true;

    public override string? FiguresKey => "regression";

    /// <summary>The table's columns and a SHA-256 of each file's bytes: a resumed run must see the same data, wherever it now lies.</summary>
    public override JsonObject? Provenance => new()
    {
        ["table"] = new JsonObject
        {
            ["target"] = _train.TargetName, ["target_column"] = _train.TargetColumn + 1, ["named"] = _named,
            ["inputs"] = new JsonArray([.. _train.InputNames.Select(n => (JsonNode)n)]),
            ["sha256"] = _tableHash, ["test_sha256"] = _testHash, ["train_rows"] = _train.Count, ["test_rows"] = _test.Count,
        },
    };

    /// <summary>The hex SHA-256 of a file's bytes.</summary>
    private static string Hash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stream));
    }

    /// <summary>
    /// The rows of <paramref name="table"/> with the test rows from <paramref name="testPath"/> (its columns matched by name
    /// when both files have headers, else by position) or, without a test file, <see cref="HeldOutFraction"/> of the rows
    /// held out by the run's <c>test-split</c> stream.
    /// </summary>
    public static RegressionRunData Load(NumericTable source, RegressionTable table, string? testPath, ulong seed)
    {
        RegressionTable train, test;
        string split;
        if (testPath is null)
        {
            if (table.Count < 2) throw new UsageException($"--data: {table.Source} holds {table.Count} row; give a test file (--test-data) or more rows.");
            (train, test) = table.Split(HeldOutFraction, RandomStream.Root(seed).Derive(TestSplitPurpose));
            split = string.Create(CultureInfo.InvariantCulture, $"{HeldOutFraction * 100:F0} % of the rows held out for testing");
        }
        else
        {
            var testTable = NumericTable.Read(testPath);
            bool byName = source.HasHeader && testTable.HasHeader;
            (train, test) = (table, table.SameColumnsFrom(testTable, byName));
            split = $"test rows from {testPath} (columns matched by {(byName ? "name" : "position")})";
        }
        string description = string.Create(CultureInfo.InvariantCulture,
            $"table {table.Source}: {train.Count:N0} train / {test.Count:N0} test rows, target {table.TargetName} from {table.InputCount} input{(table.InputCount == 1 ? "" : "s")} " +
            $"({string.Join(", ", table.InputNames)}); {split}");
        return new RegressionRunData(train, test, source.HasHeader, Hash(source.Path), testPath is null ? null : Hash(testPath), description);
    }

    /// <summary>Reads <paramref name="path"/> and selects <paramref name="target"/>; a wrong column is a usage error listing the columns.</summary>
    public static (NumericTable Source, RegressionTable Rows) ReadTable(string path, string target)
    {
        var table = NumericTable.Read(path);
        try { return (table, RegressionTable.FromTable(table, target)); }
        catch (ArgumentException e) { throw new UsageException("--target: " + CommonOptions.WithoutParameter(e)); }
    }

    public override PreparedRows Prepare(TrainingConfig config, string run)
    {
        var spec = config.Architecture;
        if (spec.Loss != "squared-error")
            throw new UsageException($"{run}: a regression on --target fits squared error; the config's loss is {spec.Loss} (set \"loss\": \"squared-error\").");
        if (spec.OutputLength != 1)
            throw new UsageException($"{run}: the net has {spec.OutputLength} outputs; a regression on one --target column needs a last dense layer of 1 unit.");
        if (spec.InputLength != _train.InputCount)
            throw new UsageException($"--data: the table has {_train.InputCount} input columns ({string.Join(", ", _train.InputNames)}) but {run} takes {spec.InputLength} inputs.");
        CheckStandardization(config, run);
        var fit = _train;
        RegressionTable? held = null;
        if (config.ValidationFraction > 0)
            (fit, held) = _train.Split(config.ValidationFraction, RandomStream.Root(config.Training.Seed).Derive(Dataset.ValidationSplitPurpose));
        _fit = fit;
        var statistics = config.Normalize ? fit.InputStatistics() : null;
        (double Mean, double Deviation)? target = config.Normalize && spec.CanAbsorbTargetStandardization ? fit.TargetStatistics() : null;
        var warnings = new List<string>();
        if (target is not null)
            warnings.Add("inputs and target standardised with the training rows' statistics: the losses below are in standardised units, " +
                         "the figures at the end in the table's (the saved model takes and predicts raw values)");
        if (statistics is not null)
        {
            for (int j = 0; j < fit.InputCount; j++)
            {
                double offset = Math.Abs(statistics.Mean[j]) * statistics.InverseScale[j];
                // The saved model takes raw float32 inputs, so a column far from zero in units of its spread loses digits there.
                if (offset > 1e3)
                    warnings.Add(string.Create(CultureInfo.InvariantCulture,
                        $"warning: input '{fit.InputNames[j]}' lies {offset:G3} deviations from zero: the saved model, which takes raw float32 inputs, resolves it to about " +
                        $"{offset * 6e-8:G2} of a deviation; subtract an offset in the table for more."));
            }
        }
        return new PreparedRows(fit.ToSupervisedData(statistics, target), held?.ToSupervisedData(statistics, target),
            _test.ToSupervisedData(), statistics, warnings, target);
    }

    public override void CheckResume(JsonObject? saved, string directory)
    {
        if (saved?["table"] is not JsonObject table)
            throw new UsageException($"--resume: {directory} records no table: it was not trained on one, or was written before Shinso recorded a run's table; " +
                                     "resume it without --target, or start the run again.");
        var now = (JsonObject)Provenance!["table"]!;
        (string Key, string What)[] checks =
        [
            ("target", "target"), ("inputs", "input columns"), ("sha256", "table (SHA-256 of --data)"),
            ("test_sha256", "test rows (SHA-256 of --test-data, or none: held out)"),
        ];
        foreach (var (key, what) in checks)
        {
            if (!JsonNode.DeepEquals(table[key], now[key]))
                throw new UsageException($"--resume: {directory} was trained with {what} {table[key]?.ToJsonString() ?? "none"}, " +
                                         $"this run has {now[key]?.ToJsonString() ?? "none"}; resume with the same --data, --test-data and --target.");
        }
    }

    /// <summary>How to name the target of a recorded run on the command line: its header name, or its column number.</summary>
    public static string TargetArgument(JsonObject table) =>
        table["named"] is JsonValue named && named.TryGetValue(out bool isNamed) && isNamed && table["target"] is JsonValue t && t.TryGetValue(out string? name)
            ? (name.Contains(' ') ? $"\"{name}\"" : name)
            : table["target_column"] is JsonValue c && c.TryGetValue(out int column) ? column.ToString(CultureInfo.InvariantCulture) : "COLUMN";

    public override (JsonObject? Figures, IReadOnlyList<string> Lines) Figures(FeedForwardNet net, PreparedRows rows)
    {
        var fit = _fit ?? throw new InvalidOperationException("Figures before Prepare.");
        var trainFigures = RegressionMetrics.Of(net, fit);
        var testFigures = RegressionMetrics.Of(net, _test);
        var figures = new JsonObject
        {
            ["target"] = _train.TargetName,
            ["inputs"] = new JsonArray([.. _train.InputNames.Select(n => (JsonNode)n)]),
            // Whether the names are the header's (eval then finds the columns by name) or positions.
            ["named"] = _named,
            ["train"] = Json(trainFigures),
            ["test"] = Json(testFigures),
        };
        var lines = new List<string> { $"test MSE {Number(testFigures.MeanSquaredError)}, R² {Number(testFigures.RSquared)} (train MSE {Number(trainFigures.MeanSquaredError)})" };
        var fitted = LinearFit.FromNet(net);
        if (fitted is not null)
        {
            AddCoefficients(figures, fitted);
            lines.Add("fitted: " + Equation(fitted));
        }
        try
        {
            // The closed form on the rows gradient descent fitted: what it should reach for a linear model, a baseline for any other.
            var exact = fit.LeastSquaresFit();
            var closedForm = new JsonObject();
            AddCoefficients(closedForm, exact);
            var exactTrain = RegressionMetrics.Of(exact.Predict(fit.Inputs, fit.Count), fit.Targets);
            closedForm["train"] = Json(exactTrain);
            closedForm["test"] = Json(RegressionMetrics.Of(exact.Predict(_test.Inputs, _test.Count), _test.Targets));
            figures["least_squares"] = closedForm;
            lines.Add("closed-form least squares: " + Equation(exact));
            // A linear model descends to the closed form; a gap in training MSE means it stopped short (or diverged).
            if (fitted is not null && !(Math.Abs(trainFigures.MeanSquaredError - exactTrain.MeanSquaredError) <= 1e-3 * exactTrain.MeanSquaredError + 1e-12))
                lines.Add($"warning: gradient descent stopped short of the closed form (train MSE {Number(trainFigures.MeanSquaredError)} against " +
                          $"{Number(exactTrain.MeanSquaredError)}); give more --epochs or a larger --lr.");
        }
        catch (ArgumentException e)
        {
            figures["least_squares"] = null;
            figures["least_squares_note"] = CommonOptions.WithoutParameter(e);
            lines.Add("no closed-form fit: " + CommonOptions.WithoutParameter(e));
        }
        return (figures, lines);
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
        for (int j = 0; j < fit.Coefficients.Length; j++) coefficients[_train.InputNames[j]] = Finite(fit.Coefficients[j]);
        json["coefficients"] = coefficients;
        json["intercept"] = Finite(fit.Intercept);
    }

    /// <summary>MSE, R² and rows as JSON; a figure that is not finite (R² of constant targets, a diverged fit) as null.</summary>
    public static JsonObject Json(RegressionMetrics m) => new()
    {
        ["mse"] = Finite(m.MeanSquaredError), ["r2"] = Finite(m.RSquared), ["rows"] = m.Count,
    };

    /// <summary>JSON has no NaN or infinity: such a figure is written as null.</summary>
    public static double? Finite(double value) => double.IsFinite(value) ? value : null;

    /// <summary>Four significant digits, invariant culture.</summary>
    public static string Number(double value) => value.ToString("G4", CultureInfo.InvariantCulture);
}
