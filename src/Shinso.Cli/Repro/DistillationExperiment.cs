using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Shinso.Data;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Optimizers;
using Shinso.Training;
using Spectre.Console;

namespace Shinso.Cli.Repro;

/// <summary>
/// Model compression, scaled down: a convolutional teacher (fashion-cnn trained with shifts and flips), then a one-hidden-layer
/// student trained on the labels, on the teacher's logits (Ba &amp; Caruana 2014) and on its softened probabilities mixed with
/// the labels (Hinton, Vinyals &amp; Dean 2015), all on the same training rows; the recipe is chosen on held-out rows.
/// </summary>
internal sealed class DistillationExperiment : Experiment
{
    private const int Temperature = 4;
    private const float LabelWeight = 0.1f;

    public override string Name => "distillation";

    public override string Paper => "Hinton, G., Vinyals, O. & Dean, J. (2015), Distilling the knowledge in a neural network, NIPS Deep Learning Workshop; " +
                                    "Ba, J. & Caruana, R. (2014), Do deep nets really need to be deep?, NIPS 27:2654-2662";

    public override string Dataset => "Fashion-MNIST (Debian's dataset-fashion-mnist if installed, else the embedded subset); the papers used MNIST, TIMIT and CIFAR-10";

    public override string Claim => "a small net trained on a large net's soft outputs does better than the same net trained on the labels, with a fraction of the parameters and the inference time";

    public override string ExpectedTime => "13 min (quick: 40 s)";

    public override string QuickVersion => "3,000 training images of the embedded subset, a 2-epoch teacher, 5-epoch students";

    public override ExperimentReport Run(ExperimentContext context)
    {
        var data = ExperimentData.Load(context);
        if (data.Train.FeatureCount != 784 || data.Train.ClassCount != 10)
            throw new Commands.UsageException($"--data: the experiment's teacher takes 28x28 images of ten classes; the data has {data.Train.FeatureCount} values and {data.Train.ClassCount} classes.");
        var train = context.Quick ? data.Train.Take(3000) : data.Train;
        var test = context.Quick ? data.Test.Take(1000) : data.Test;
        // One split for teacher and students: the teacher never sees the rows the recipes are chosen on.
        var (fit, held) = train.Split(0.1, context.Seed);
        var fitRows = SupervisedData.FromDataset(fit);
        var heldRows = SupervisedData.FromDataset(held);
        var testRows = SupervisedData.FromDataset(test);
        int teacherEpochs = context.Quick ? 2 : 10, studentEpochs = context.Quick ? 5 : 20;
        void Log(string line) => Commands.CommonOptions.Err.MarkupLine(Spectre.Console.Markup.Escape(line));
        var clock = Stopwatch.StartNew();

        var teacherConfig = Presets.Find("fashion-cnn")!;
        var teacher = new FeedForwardNet(context.Backend, teacherConfig.Architecture, context.Seed);
        var augmentation = ImageAugmentation.Parse("shift:1,flip");
        new Trainer(teacher, teacherConfig.CreateOptimizer(), teacherConfig.Training with { Epochs = teacherEpochs, Seed = context.Seed, Augmentation = augmentation }).Fit(fitRows);
        double teacherTest = Trainer.Evaluate(teacher, testRows).Accuracy ?? double.NaN;
        Log(string.Create(CultureInfo.InvariantCulture, $"teacher fashion-cnn: {teacherTest:P2} on the test images ({clock.Elapsed.TotalSeconds:F0} s)"));

        var studentSpec = new FeedForwardSpec([784], [LayerSpec.Dense(256, WeightInit.HeNormal), LayerSpec.Of("relu"), LayerSpec.Dense(10, WeightInit.GlorotUniform)],
            "softmax-cross-entropy");
        var recipes = new (string Name, Distillation? Distillation)[]
        {
            ("labels", null),
            ("logits", new Distillation { Teachers = ["teacher"] }),
            ($"soft:{Temperature}, label weight {LabelWeight.ToString(CultureInfo.InvariantCulture)}",
                new Distillation { Teachers = ["teacher"], Target = DistillationTarget.SoftTargets, Temperature = Temperature, LabelWeight = LabelWeight }),
        };
        var results = new List<(string Name, double Validation, double Test)>();
        FeedForwardNet? chosen = null;
        foreach (var (name, distillation) in recipes)
        {
            var student = new FeedForwardNet(context.Backend, studentSpec, context.Seed);
            var options = new TrainingOptions { Epochs = studentEpochs, BatchSize = 100, Seed = context.Seed, Distillation = distillation };
            new Trainer(student, new Adam(new ConstantSchedule(1e-3f)), options, distillation is null ? null : [teacher]).Fit(fitRows);
            double validation = Trainer.Evaluate(student, heldRows).Accuracy ?? double.NaN;
            double testAccuracy = Trainer.Evaluate(student, testRows).Accuracy ?? double.NaN;
            results.Add((name, validation, testAccuracy));
            if (results.MaxBy(r => r.Validation).Name == name) chosen = student;
            Log(string.Create(CultureInfo.InvariantCulture, $"student on {name}: validation {validation:P2}, test {testAccuracy:P2} ({clock.Elapsed.TotalSeconds:F0} s)"));
        }

        int Parameters(FeedForwardNet net) => net.Parameters.Sum(p => (int)p.Value.Length);
        double Milliseconds(FeedForwardNet net)
        {
            var x = context.Backend.Allocate(100, 784);
            context.Backend.Upload(test.Features.AsSpan(0, Math.Min(100, test.Count) * 784), x.SliceRows(0, Math.Min(100, test.Count)));
            var host = new float[100 * 10];
            void Predict() => context.Backend.Download(net.Predict(net.Spec.InputShape.Length == 3 ? x.Reshape(100, 1, 28, 28) : x), host);
            Predict();
            var best = double.MaxValue;
            for (int r = 0; r < 5; r++)
            {
                var watch = Stopwatch.StartNew();
                int calls = 0;
                do { Predict(); calls++; } while (watch.Elapsed.TotalSeconds < 0.1);
                best = Math.Min(best, watch.Elapsed.TotalMilliseconds / calls);
            }
            return best;
        }
        var winner = results.MaxBy(r => r.Validation);
        var labels = results[0];
        var soft = results[2];
        double teacherMs = Milliseconds(teacher), studentMs = Milliseconds(chosen!);
        string P(double x) => (100 * x).ToString("F2", CultureInfo.InvariantCulture) + " %";
        string setting = $"teacher fashion-cnn ({Parameters(teacher):N0} parameters, augmented by shift:1,flip, {teacherEpochs} epochs), student 784-256-10 ReLU " +
                         $"({Parameters(chosen!):N0} parameters), Adam lr 0.001, {studentEpochs} epochs of batch 100; {fit.Count:N0} training images, " +
                         $"{held.Count:N0} held out to choose the recipe, {test.Count:N0} test images; seed {context.Seed}";
        var report = new ExperimentReport(this);
        report.Rows.Add(new ReportRow("A small net trained on the large net's softened outputs does better than on the labels alone",
            "MNIST: an 800-800 net makes 146 test errors trained on labels, 74 trained on a large net's soft targets at T = 20 (the large net: 67)",
            "Hinton et al. 2015: a 1200-1200 net with dropout as the teacher, 60,000 MNIST images",
            $"labels {P(labels.Test)}, soft:{Temperature} {P(soft.Test)} on the test images (validation {P(labels.Validation)} and {P(soft.Validation)}); teacher {P(teacherTest)}",
            setting));
        report.Rows.Add(new ReportRow("A shallow net trained to regress a deep net's logits approaches the deep net's accuracy",
            "shallow mimic nets match deep and convolutional nets on TIMIT and CIFAR-10 when trained on their logits (with more hidden units and unlabelled data)",
            "Ba & Caruana 2014: TIMIT phone recognition and CIFAR-10, mimics trained on the teachers' logits by L2 regression",
            $"logits {P(results[1].Test)} on the test images (validation {P(results[1].Validation)}), against the teacher's {P(teacherTest)}", setting));
        report.Rows.Add(new ReportRow("The student is a fraction of the teacher's size and cost",
            "compression's point: the small net keeps most of the accuracy at a fraction of the parameters and inference time", "both papers",
            string.Create(CultureInfo.InvariantCulture, $"chosen student ({winner.Name}): {Parameters(chosen!) * 100.0 / Parameters(teacher):F1} % of the teacher's parameters, " +
                $"{studentMs:F3} ms against {teacherMs:F2} ms per batch of 100 ({teacherMs / studentMs:F0}x), {100 * winner.Test / teacherTest:F0} % of its accuracy"),
            setting + $"; best of 5 timings of {Commands.CommonOptions.Describe(context.Backend)}"));
        report.Notes.Add($"Data: {data.Description}" + (context.Quick ? " (quick: the first images)." : "."));
        report.Notes.Add($"Recipes tried: {results.Count}, chosen by accuracy on the held-out rows ({winner.Name}); the test images are read once per reported row.");
        report.Notes.Add("Not the papers' setting: Fashion-MNIST instead of MNIST, a 3.3-million-parameter convolutional teacher, no transfer set beyond the labelled training images.");
        foreach (var (name, validation, testAccuracy) in results)
        {
            string key = name.Split(',')[0].Replace(":", "").Replace(" ", "_");
            report.Figures[$"{key}_validation_accuracy"] = validation;
            report.Figures[$"{key}_test_accuracy"] = testAccuracy;
        }
        report.Figures["teacher_test_accuracy"] = teacherTest;
        report.Figures["teacher_parameters"] = Parameters(teacher);
        report.Figures["student_parameters"] = Parameters(chosen!);
        report.Figures["teacher_ms_per_100"] = teacherMs;
        report.Figures["student_ms_per_100"] = studentMs;
        report.Figures["chosen"] = winner.Name;
        return report;
    }
}
