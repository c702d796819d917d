using Shinso.Backends;
using Shinso.Layers;
using Shinso.Optimizers;
using Shinso.Random;

namespace Shinso.Tests.Optimizers;

/// <summary>A gradient stated as GEMM products updates a parameter as the formed gradient would, fused or not.</summary>
public class GradientProductTests
{
    public static TheoryData<string, float, bool> Rules => new()
    {
        // rule, weight decay, whether a hook forces the products to be formed first
        { "sgd", 0f, false }, { "sgd", 1e-2f, false }, { "momentum", 0f, false }, { "momentum", 1e-2f, false },
        { "momentum", 1e-2f, true }, { "adam", 1e-2f, false }, { "nesterov", 0f, false },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Three_steps_from_products_match_three_steps_from_the_formed_gradient(string rule, float weightDecay, bool clipping)
    {
        var backend = new CpuBackend();
        const int rows = 7, m = 5, n = 3;
        var streams = RandomStream.Root(11);
        var left = backend.Allocate(rows, m);
        var right = backend.Allocate(rows, n);
        var left2 = backend.Allocate(rows, m);
        var right2 = backend.Allocate(rows, n);
        var start = backend.Allocate(m, n);
        backend.SampleGaussian(streams.Derive("left"), 0, 0f, 1f, left);
        backend.SampleGaussian(streams.Derive("right"), 0, 0f, 1f, right);
        backend.SampleGaussian(streams.Derive("left", 1), 0, 0f, 1f, left2);
        backend.SampleGaussian(streams.Derive("right", 1), 0, 0f, 1f, right2);
        backend.SampleGaussian(streams.Derive("start"), 0, 0f, 1f, start);

        Optimizer Make()
        {
            var o = OptimizerTests.Create(rule, 0.05f);
            if (weightDecay > 0) o.Hooks.Add(new WeightDecay(weightDecay));
            if (clipping) o.Hooks.Add(new GradientClipping(1e6f));
            return o;
        }
        var fused = new Parameter("w", backend.Allocate(m, n), ParameterRole.Weight);
        var formed = new Parameter("w", backend.Allocate(m, n), ParameterRole.Weight);
        backend.Copy(start, fused.Value);
        backend.Copy(start, formed.Value);
        Optimizer a = Make(), b = Make();
        for (int step = 0; step < 3; step++)
        {
            fused.SetGradientProducts(new GradientTerm(left, right, -0.1f), new GradientTerm(left2, right2, 0.3f));
            a.Step([fused], step);
            Assert.Equal(0, fused.GradientProductCount);
            // g = -0.1 L^T R + 0.3 L2^T R2, by hand.
            var g = formed.Gradient.Span;
            var l = left.Span; var r = right.Span; var l2 = left2.Span; var r2 = right2.Span;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = 0;
                    for (int k = 0; k < rows; k++) sum += -0.1 * l[k * m + i] * r[k * n + j] + 0.3 * l2[k * m + i] * r2[k * n + j];
                    g[i * n + j] = (float)sum;
                }
            b.Step([formed], step);
        }
        var x = fused.Value.Span;
        var y = formed.Value.Span;
        for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - y[i]) <= 1e-5f * (1 + Math.Abs(y[i])), $"element {i}: {x[i]} from products, {y[i]} formed");
    }

    [Fact]
    public void A_product_of_the_wrong_shape_is_refused_with_the_parameter_named()
    {
        var backend = new CpuBackend();
        var p = new Parameter("layer0.weight", backend.Allocate(5, 3), ParameterRole.Weight);
        var e = Assert.Throws<ArgumentException>(() => p.SetGradientProducts(new GradientTerm(backend.Allocate(4, 5), backend.Allocate(4, 2), 1f)));
        Assert.StartsWith("layer0.weight:", e.Message);
    }
}
