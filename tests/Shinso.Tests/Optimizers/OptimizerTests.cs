using Shinso.Backends;
using Shinso.Layers;
using Shinso.Optimizers;

namespace Shinso.Tests.Optimizers;

public class OptimizerTests
{
    private static readonly float[] Gradients = [0.5f, -0.25f, 1.0f];

    public static TheoryData<string, double, double, double> FirstThreeUpdates => new()
    {
        // theta0 = 1, gradients 0.5, -0.25, 1.0, learning rate 0.1; values from each paper's formula in double precision.
        { "sgd", 0.9500000, 0.9750000, 0.8750000 },
        { "momentum", 0.9500000, 0.9300000, 0.8120000 },
        { "nesterov", 0.9050000, 0.9120000, 0.7058000 },
        { "adagrad", 0.9000000, 0.9447214, 0.8574342 },
        { "rmsprop", 0.6837723, 0.8312142, 0.5493563 },
        { "adadelta", 0.9955280, 0.9984146, 0.9923456 },
        { "adam", 0.9000000, 0.8733663, 0.8075551 },
    };

    internal static Optimizer Create(string name, float lr) => name switch
    {
        "sgd" => new Sgd(new ConstantSchedule(lr)),
        "momentum" => new Momentum(new ConstantSchedule(lr), new ConstantSchedule(0.9f)),
        "nesterov" => new Nesterov(new ConstantSchedule(lr), new ConstantSchedule(0.9f)),
        "adagrad" => new AdaGrad(new ConstantSchedule(lr)),
        "rmsprop" => new RmsProp(new ConstantSchedule(lr)),
        "adadelta" => new AdaDelta(),
        "adam" => new Adam(new ConstantSchedule(lr)),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(FirstThreeUpdates))]
    public void First_three_updates_equal_hand_computed_values(string name, double first, double second, double third)
    {
        var backend = new CpuBackend();
        var p = new Parameter("theta", backend.Allocate(1), ParameterRole.Weight);
        p.Value.Span[0] = 1f;
        var optimizer = Create(name, 0.1f);
        double[] expected = [first, second, third];
        for (int t = 0; t < 3; t++)
        {
            p.Gradient.Span[0] = Gradients[t];
            optimizer.Step([p], epoch: 0);
            Assert.Equal(expected[t], p.Value.Span[0], 5e-6);
        }
        Assert.Equal(3, optimizer.StepCount);
    }

    public static TheoryData<string, string> EveryOptimizerOnEveryFunction()
    {
        var data = new TheoryData<string, string>();
        foreach (var o in new[] { "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta", "adam" })
            foreach (var f in new[] { "noisy-bowl", "cliff", "plateau" })
                data.Add(o, f);
        return data;
    }

    /// <summary>
    /// Schaul, Antonoglou &amp; Silver 2014, "Unit tests for stochastic optimization": prototype
    /// landscapes with additive Gaussian gradient noise; every optimizer must lower the loss.
    /// </summary>
    [Theory]
    [MemberData(nameof(EveryOptimizerOnEveryFunction))]
    public void Every_optimizer_lowers_the_loss(string optimizerName, string function)
    {
        (Func<double, double> f, Func<double, double> df, double start) = function switch
        {
            // A quadratic bowl.
            "noisy-bowl" => ((Func<double, double>)(x => 0.5 * x * x), (Func<double, double>)(x => x), 3.0),
            // Steep walls (slope 10) around a shallow valley (slope 1): a step sized for the wall overshoots the valley.
            "cliff" => (x => Math.Abs(x) <= 1 ? Math.Abs(x) : 10 * Math.Abs(x) - 9, x => Math.Sign(x) * (Math.Abs(x) <= 1 ? 1 : 10), 3.0),
            // A plateau: the gradient at the start is tiny.
            _ => (x => 1 - Math.Exp(-x * x / 2), x => x * Math.Exp(-x * x / 2), 3.0),
        };
        float lr = optimizerName switch { "sgd" or "adagrad" => 0.1f, "momentum" or "nesterov" => 0.05f, _ => 0.05f };
        var backend = new CpuBackend();
        var p = new Parameter("theta", backend.Allocate(2), ParameterRole.Weight);
        p.Value.Span.Fill((float)start);
        var optimizer = Create(optimizerName, lr);
        var noise = new System.Random(12345);
        double Loss() => f(p.Value.Span[0]) + f(p.Value.Span[1]);
        double initial = Loss();
        double recent = 0;
        const int steps = 300;
        for (int t = 0; t < steps; t++)
        {
            for (int i = 0; i < 2; i++)
            {
                double gaussian = Math.Sqrt(-2 * Math.Log(1 - noise.NextDouble())) * Math.Cos(2 * Math.PI * noise.NextDouble());
                p.Gradient.Span[i] = (float)(df(p.Value.Span[i]) + 0.1 * gaussian);
            }
            optimizer.Step([p], 0);
            Assert.True(double.IsFinite(Loss()), $"{optimizerName} diverged on {function} at step {t}");
            if (t >= steps - 20) recent += Loss() / 20;
        }
        Assert.True(recent < initial, $"{optimizerName} on {function}: loss {initial:G4} -> {recent:G4} (mean of the last 20 steps)");
    }

    [Fact]
    public void Weight_decay_adds_lambda_times_weights_to_weight_gradients_only()
    {
        var backend = new CpuBackend();
        var w = new Parameter("w", backend.Allocate(2), ParameterRole.Weight);
        var b = new Parameter("b", backend.Allocate(2), ParameterRole.Bias);
        w.Value.Span.Fill(2f);
        b.Value.Span.Fill(2f);
        var sgd = new Sgd(new ConstantSchedule(0.5f));
        sgd.Hooks.Add(new WeightDecay(0.1f));
        sgd.Step([w, b], 0);
        Assert.Equal(2f - 0.5f * 0.1f * 2f, w.Value.Span[0], 6);
        Assert.Equal(2f, b.Value.Span[0]);
    }

    [Fact]
    public void Max_norm_projects_each_units_incoming_weights_onto_the_ball()
    {
        var backend = new CpuBackend();
        // 2 inputs x 3 units; column norms 5, 0.5 and 13.
        var w = new Parameter("w", backend.FromArray([3f, 0.3f, 5f, 4f, 0.4f, 12f], 2, 3), ParameterRole.Weight);
        var sgd = new Sgd(new ConstantSchedule(0.1f));
        sgd.Hooks.Add(new MaxNorm(1f));
        sgd.Step([w], 0);
        var v = w.Value.Span;
        Assert.Equal(0.6f, v[0], 6); Assert.Equal(0.8f, v[3], 6);
        Assert.Equal(0.3f, v[1], 6); Assert.Equal(0.4f, v[4], 6);
        Assert.Equal(5f / 13f, v[2], 6); Assert.Equal(12f / 13f, v[5], 6);
    }

    [Fact]
    public void Gradient_clipping_scales_the_global_norm_down_to_the_limit()
    {
        var backend = new CpuBackend();
        var a = new Parameter("a", backend.Allocate(1), ParameterRole.Weight);
        var b = new Parameter("b", backend.Allocate(1), ParameterRole.Bias);
        a.Gradient.Span[0] = 3f;
        b.Gradient.Span[0] = 4f;
        var sgd = new Sgd(new ConstantSchedule(1f));
        sgd.Hooks.Add(new GradientClipping(1f));
        sgd.Step([a, b], 0);
        Assert.Equal(-0.6f, a.Value.Span[0], 6);
        Assert.Equal(-0.8f, b.Value.Span[0], 6);
    }

    [Fact]
    public void Schedules_follow_their_formulas()
    {
        Assert.Equal(0.1f * 0.25f, new StepDecaySchedule(0.1f, 0.5f, 10).At(25), 7);
        Assert.Equal(0.1f * MathF.Pow(0.9f, 3), new ExponentialDecaySchedule(0.1f, 0.9f).At(3), 7);
        var ramp = new LinearRampSchedule(0.5f, 0.9f, 4);
        Assert.Equal(0.5f, ramp.At(0));
        Assert.Equal(0.7f, ramp.At(2), 6);
        Assert.Equal(0.9f, ramp.At(10));
    }
}
