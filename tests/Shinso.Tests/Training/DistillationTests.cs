using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Optimizers;
using Shinso.Random;
using Shinso.Training;

namespace Shinso.Tests.Training;

/// <summary>Model compression: students trained on teachers' logits or softened probabilities, mixed with the labels.</summary>
public sealed class DistillationTests
{
    private const int Inputs = 5, Classes = 3, Rows = 48;

    private static readonly FeedForwardSpec Linear = new([Inputs], [LayerSpec.Dense(Classes, WeightInit.SmallGaussian, 1f)], "softmax-cross-entropy");

    private static float[] Download(Shinso.Tensors.Tensor t)
    {
        var host = new float[t.Length];
        t.Backend.Download(t, host);
        return host;
    }

    /// <summary>Gaussian inputs and random labels, as one-hot rows.</summary>
    private static SupervisedData Problem(int rows = Rows)
    {
        var stream = RandomStream.Root(7).Derive("distillation-problem");
        var x = new float[rows * Inputs];
        for (int i = 0; i < x.Length; i++) x[i] = Philox4x32.Gaussian(stream, (ulong)i);
        var labels = new int[rows];
        var targets = new float[rows * Classes];
        for (int r = 0; r < rows; r++)
        {
            labels[r] = (int)(Philox4x32.Word(stream.Derive("label"), (ulong)r) % Classes);
            targets[r * Classes + labels[r]] = 1f;
        }
        return new SupervisedData(x, Inputs, targets, Classes, labels);
    }

    [Fact]
    public void A_student_trained_on_a_fixed_teachers_logits_reaches_them()
    {
        using var cpu = new CpuBackend();
        var teacher = new FeedForwardNet(cpu, Linear, seed: 1);
        var student = new FeedForwardNet(cpu, Linear, seed: 2);
        var data = Problem();
        var options = new TrainingOptions { Epochs = 400, BatchSize = 0, Seed = 3, Distillation = new Distillation { Teachers = ["teacher"] } };
        var trainer = new Trainer(student, new Sgd(new ConstantSchedule(0.5f)), options, [teacher]);

        trainer.Fit(data);

        var x = cpu.Allocate(Rows, Inputs);
        cpu.Upload(data.Inputs, x);
        var expected = Download(teacher.Forward(x, ForwardContext.Inference));
        var actual = Download(student.Forward(x, ForwardContext.Inference));
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-3, $"logit {i}: {actual[i]} vs the teacher's {expected[i]}");
        // Trained on the logits alone, the student learns nothing of the random labels: its loss is the teacher's mimicry error.
        Assert.True(trainer.State.History[^1].TrainLoss < 1e-6, $"final distillation loss {trainer.State.History[^1].TrainLoss}");
    }

    /// <summary>Host reference of the objective for one batch, in double: (1 - a) T² CE(softmax(zt/T), softmax(zs/T)) + a CE(y, softmax(zs)).</summary>
    private static double SoftObjective(double[] zs, float[] zt, float[] y, double t, double a)
    {
        double total = 0;
        for (int r = 0; r < Rows; r++)
        {
            var soft = Softmax(zt.AsSpan(r * Classes, Classes).ToArray().Select(v => (double)v / t).ToArray());
            var scaled = LogSoftmax(zs.AsSpan(r * Classes, Classes).ToArray().Select(v => v / t).ToArray());
            var plain = LogSoftmax(zs.AsSpan(r * Classes, Classes).ToArray());
            for (int k = 0; k < Classes; k++) total += -(1 - a) * t * t * soft[k] * scaled[k] - a * y[r * Classes + k] * plain[k];
        }
        return total / Rows;
    }

    private static double[] Softmax(double[] z) { var l = LogSoftmax(z); return [.. l.Select(Math.Exp)]; }

    private static double[] LogSoftmax(double[] z)
    {
        double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max));
        return [.. z.Select(v => v - max - Math.Log(sum))];
    }

    [Theory]
    [InlineData(4f, 0.25f)]
    [InlineData(1f, 0f)]
    [InlineData(20f, 0.9f)]
    public void Soft_targets_give_the_tempered_objective_and_its_central_difference_gradient(float temperature, float labelWeight)
    {
        using var cpu = new CpuBackend();
        var teacher = new FeedForwardNet(cpu, Linear, seed: 1);
        var student = new FeedForwardNet(cpu, Linear, seed: 2);
        var data = Problem();
        var settings = new Distillation { Teachers = ["teacher"], Target = DistillationTarget.SoftTargets, Temperature = temperature, LabelWeight = labelWeight };
        var objective = new DistillationObjective(settings, [teacher], student);
        var x = cpu.Allocate(Rows, Inputs);
        var y = cpu.Allocate(Rows, Classes);
        cpu.Upload(data.Inputs, x);
        cpu.Upload(data.Targets, y);

        var scores = student.Forward(x, new ForwardContext(true, RandomStream.Root(1), 0));
        float labelLoss = student.ComputeLoss(y, out _);
        float loss = objective.Apply(student, x, scores, labelLoss);
        var gradient = Download(student.ScoresGradient);

        var zs = Download(scores).Select(v => (double)v).ToArray();
        var zt = Download(teacher.Forward(x, ForwardContext.Inference));
        double expected = SoftObjective(zs, zt, data.Targets, temperature, labelWeight);
        Assert.True(Math.Abs(loss - expected) < 1e-4 * Math.Max(1, Math.Abs(expected)), $"objective {loss} vs {expected}");
        const double h = 1e-4;
        for (int i = 0; i < zs.Length; i++)
        {
            double keep = zs[i];
            zs[i] = keep + h;
            double up = SoftObjective(zs, zt, data.Targets, temperature, labelWeight);
            zs[i] = keep - h;
            double down = SoftObjective(zs, zt, data.Targets, temperature, labelWeight);
            zs[i] = keep;
            double numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(gradient[i] - numeric) < 1e-5 + 1e-3 * Math.Abs(numeric), $"dL/dz[{i}]: {gradient[i]} vs central difference {numeric}");
        }
    }

    [Fact]
    public void Logits_mixed_with_labels_weigh_the_two_gradients()
    {
        using var cpu = new CpuBackend();
        var teacher = new FeedForwardNet(cpu, Linear, seed: 1);
        var student = new FeedForwardNet(cpu, Linear, seed: 2);
        var data = Problem();
        const float a = 0.3f;
        var objective = new DistillationObjective(new Distillation { Teachers = ["t"], LabelWeight = a }, [teacher], student);
        var x = cpu.Allocate(Rows, Inputs);
        var y = cpu.Allocate(Rows, Classes);
        cpu.Upload(data.Inputs, x);
        cpu.Upload(data.Targets, y);
        var scores = student.Forward(x, ForwardContext.Inference);
        float labelLoss = student.ComputeLoss(y, out var predictions);
        var labelGradient = Download(student.ScoresGradient);
        float loss = objective.Apply(student, x, scores, labelLoss);

        var zs = Download(scores);
        var zt = Download(teacher.Forward(x, ForwardContext.Inference));
        var gradient = Download(student.ScoresGradient);
        double squared = 0;
        for (int i = 0; i < zs.Length; i++)
        {
            squared += (zs[i] - zt[i]) * (zs[i] - zt[i]);
            Assert.Equal((1 - a) * (zs[i] - zt[i]) / Rows + a * labelGradient[i], gradient[i], 6);
        }
        Assert.Equal((1 - a) * squared / (2 * Rows) + a * labelLoss, loss, 4);
    }

    [Fact]
    public void A_layers_penalty_counts_at_full_weight_whatever_the_label_weight()
    {
        using var cpu = new CpuBackend();
        var spec = new FeedForwardSpec([Inputs], [LayerSpec.Dense(4), LayerSpec.Of("sigmoid"), new SparsitySpec(0.05f, 3f), LayerSpec.Dense(Classes)], "softmax-cross-entropy");
        var teacher = new FeedForwardNet(cpu, Linear, seed: 1);
        var student = new FeedForwardNet(cpu, spec, seed: 2);
        var data = Problem();
        var x = cpu.Allocate(Rows, Inputs);
        var y = cpu.Allocate(Rows, Classes);
        cpu.Upload(data.Inputs, x);
        cpu.Upload(data.Targets, y);
        foreach (float a in new[] { 0f, 0.5f })
        {
            var objective = new DistillationObjective(new Distillation { Teachers = ["t"], LabelWeight = a }, [teacher], student);
            var scores = student.Forward(x, new ForwardContext(true, RandomStream.Root(1), 0));
            float labelLoss = student.ComputeLoss(y, out _);
            float penalty = student.LastPenalty;
            Assert.True(penalty > 0f, "the sparsity layer adds a penalty in a training pass");
            var zs = Download(scores);
            var zt = Download(teacher.Forward(x, ForwardContext.Inference));
            double squared = 0;
            for (int i = 0; i < zs.Length; i++) squared += (zs[i] - zt[i]) * (zs[i] - zt[i]);
            float loss = objective.Apply(student, x, scores, labelLoss);
            Assert.Equal((1 - a) * squared / (2 * Rows) + a * (labelLoss - penalty) + penalty, loss, 4);
        }
    }

    [Fact]
    public void An_ensembles_logits_are_the_mean_of_its_members_and_a_conv_teacher_takes_a_dense_students_rows()
    {
        using var cpu = new CpuBackend();
        var image = new FeedForwardSpec([1, 2, 2],
            [LayerSpec.Conv(2, 1), LayerSpec.Of("relu"), LayerSpec.Of("flatten"), LayerSpec.Dense(Classes)], "softmax-cross-entropy");
        var dense = new FeedForwardSpec([4], [LayerSpec.Dense(Classes)], "softmax-cross-entropy");
        var first = new FeedForwardNet(cpu, image, seed: 1);
        var second = new FeedForwardNet(cpu, dense, seed: 2);
        var student = new FeedForwardNet(cpu, dense, seed: 3);
        var objective = new DistillationObjective(new Distillation { Teachers = ["a", "b"] }, [first, second], student);
        var x = cpu.Allocate(6, 4);
        var host = new float[24];
        for (int i = 0; i < host.Length; i++) host[i] = Philox4x32.Gaussian(RandomStream.Root(1).Derive("inputs"), (ulong)i);
        cpu.Upload(host, x);

        var mean = Download(objective.TeacherLogits(x));

        var a = Download(first.Forward(x.Reshape(6, 1, 2, 2), ForwardContext.Inference));
        var b = Download(second.Forward(x, ForwardContext.Inference));
        for (int i = 0; i < mean.Length; i++) Assert.Equal((a[i] + b[i]) / 2, mean[i], 6);
    }

    [Fact]
    public void Teachers_that_do_not_fit_the_student_are_refused_naming_both_shapes()
    {
        using var cpu = new CpuBackend();
        var student = new FeedForwardNet(cpu, Linear, seed: 1);
        var wide = new FeedForwardNet(cpu, new FeedForwardSpec([Inputs], [LayerSpec.Dense(4)], "softmax-cross-entropy"), seed: 1);
        var settings = new Distillation { Teachers = ["runs/t/model.shinso"] };
        var e = Assert.Throws<ArgumentException>(() => new DistillationObjective(settings, [wide], student));
        Assert.Contains("runs/t/model.shinso scores 4 classes, the student 3", e.Message);

        var other = new FeedForwardNet(cpu, new FeedForwardSpec([Inputs + 1], [LayerSpec.Dense(Classes)], "softmax-cross-entropy"), seed: 1);
        e = Assert.Throws<ArgumentException>(() => new DistillationObjective(settings, [other], student));
        Assert.Contains("[6]", e.Message);
        Assert.Contains("[5]", e.Message);

        var regression = new FeedForwardNet(cpu, new FeedForwardSpec([Inputs], [LayerSpec.Dense(Classes)], "squared-error"), seed: 1);
        e = Assert.Throws<ArgumentException>(() => new DistillationObjective(settings, [regression], student));
        Assert.Contains("not a softmax classifier", e.Message);

        e = Assert.Throws<ArgumentException>(() => new DistillationObjective(settings, [student], student));
        Assert.Contains("the student itself", e.Message);

        Assert.Throws<ArgumentException>(() => new Trainer(student, new Sgd(new ConstantSchedule(0.1f)), new TrainingOptions(), [wide]));
        Assert.Throws<ArgumentException>(() => new Trainer(student, new Sgd(new ConstantSchedule(0.1f)), new TrainingOptions { Distillation = settings }));
    }

    [Fact]
    public void The_config_form_round_trips_and_bad_values_name_the_key()
    {
        var distillation = new Distillation { Teachers = ["a.shinso", "b.shinso"], Target = DistillationTarget.SoftTargets, Temperature = 4f, LabelWeight = 0.1f };
        var config = new TrainingConfig { Architecture = Linear, Training = new TrainingOptions { Distillation = distillation } };
        var back = TrainingConfig.FromJson(JsonNode.Parse(config.ToJson().ToJsonString()), "c.json").Training.Distillation!;
        Assert.Equal(distillation.Teachers, back.Teachers);
        Assert.Equal((distillation.Target, distillation.Temperature, distillation.LabelWeight), (back.Target, back.Temperature, back.LabelWeight));

        string Text(string distill, string extra = "") =>
            "{\"architecture\": " + Linear.ToJson().ToJsonString() + ", \"training\": {" + extra + "\"distill\": " + distill + "}}";
        FormatException Refused(string text) => Assert.Throws<FormatException>(() => TrainingConfig.FromJson(JsonNode.Parse(text), "c.json"));
        Assert.Contains("'training.distill.target'", Refused(Text("""{"teachers": ["a"], "target": "soft"}""")).Message);
        Assert.Contains("temperature must be positive", Refused(Text("""{"teachers": ["a"], "target": "soft:0"}""")).Message);
        Assert.Contains("label weight must be in [0, 1]", Refused(Text("""{"teachers": ["a"], "labelWeight": 2}""")).Message);
        Assert.Contains("at least one teacher", Refused(Text("""{"teachers": []}""")).Message);
        Assert.Contains("unknown key 'training.distill.teacher'", Refused(Text("""{"teachers": ["a"], "teacher": "b"}""")).Message);
        Assert.Contains("normalize", Refused(Text("""{"teachers": ["a"]}""", "\"normalize\": true, ")).Message);
    }
}
