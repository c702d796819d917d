using System.Reflection;
using System.Text.Json.Nodes;
using Shinso.Backends;
using Shinso.IO;
using Shinso.Layers;
using Shinso.Models.FeedForward;
using Shinso.Tests.Autoencoders;
using Shinso.Tests.Gradients;
using Shinso.Operations;

namespace Shinso.Tests.Layers;

/// <summary>
/// Every registered layer kind has a JSON form that reads back, a double-precision gradient check, an OpenCL parity
/// test (<see cref="OpenCL.LayerKindOpenClTests"/>) and an ONNX form (<see cref="Onnx.LayerKindOnnxTests"/>); a kind
/// registered without them fails here, and <see cref="LayerGradientTests.Every_registered_kind_inside_a_net_matches_the_double_precision_reference"/>
/// checks each inside a net.
/// </summary>
public sealed class LayerKindRegistryTests
{
    /// <summary>
    /// [2, 6, 6] images through a convolution (so gradients reach parameters through the kind), the kind, then a classifier.
    /// Kinds that need neighbours get them: a tied layer follows the dense layer 2 it transposes, a sparsity penalty a sigmoid.
    /// </summary>
    internal static FeedForwardSpec NetAround(LayerSpec layer) => layer switch
    {
        TiedSpec tied => new([2, 6, 6], [LayerSpec.Conv(2, 3, pad: 1), LayerSpec.Of("flatten"), LayerSpec.Dense(5), tied, LayerSpec.Dense(3)], "softmax-cross-entropy"),
        SparsitySpec => new([2, 6, 6], [LayerSpec.Conv(2, 3, pad: 1), LayerSpec.Of("sigmoid"), layer, LayerSpec.Of("flatten"), LayerSpec.Dense(3)], "softmax-cross-entropy"),
        _ => new([2, 6, 6], [LayerSpec.Conv(2, 3, pad: 1), layer, LayerSpec.Of("flatten"), LayerSpec.Dense(3)], "softmax-cross-entropy"),
    };

    public static TheoryData<string> Kinds() => [.. LayerKinds.All.Select(k => k.Name)];

    /// <summary>The double-precision gradient check of each kind: the test method, and the theory argument that selects the kind when it is one of several.</summary>
    private static readonly Dictionary<string, (Type Class, string Method, object? Argument)> GradientChecks = new()
    {
        ["dense"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Dense_gradients_match_the_double_precision_reference), null),
        ["conv"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Conv2d_gradients_match_the_double_precision_reference), null),
        ["tiled-conv"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.TiledConv2d_gradients_match_the_double_precision_reference), null),
        ["probabilistic-pool"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Probabilistic_pooling_gradients_match_the_double_precision_reference), null),
        ["maxpool"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Pooling_gradients_match_the_double_precision_reference), PoolingKind.Max),
        ["avgpool"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Pooling_gradients_match_the_double_precision_reference), PoolingKind.Average),
        ["lppool"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Pooling_gradients_match_the_double_precision_reference), PoolingKind.Lp),
        ["lrn"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Lrn_gradients_match_the_double_precision_reference), null),
        ["lcn"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Lcn_gradients_match_the_double_precision_reference), null),
        ["flatten"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Flatten_passes_values_and_gradients_through), null),
        ["sigmoid"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Activation_gradients_match_the_double_precision_reference), Activation.Sigmoid),
        ["tanh"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Activation_gradients_match_the_double_precision_reference), Activation.Tanh),
        ["relu"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Activation_gradients_match_the_double_precision_reference), Activation.Relu),
        ["abs"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Activation_gradients_match_the_double_precision_reference), Activation.AbsoluteValue),
        ["step"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Activation_gradients_match_the_double_precision_reference), Activation.Step),
        ["maxout"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Maxout_gradients_match_the_double_precision_reference), null),
        ["dropout"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Dropout_gradients_match_the_double_precision_reference_for_a_fixed_mask), null),
        ["softmax"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Softmax_layer_gradients_match_the_double_precision_reference), null),
        ["residual"] = (typeof(LayerGradientTests), nameof(LayerGradientTests.Residual_gradients_match_the_double_precision_reference), null),
        ["tied"] = (typeof(AutoencoderGradientTests), nameof(AutoencoderGradientTests.Tied_weight_gradients_match_the_double_precision_reference_and_sum_both_uses), null),
        ["sparsity"] = (typeof(AutoencoderGradientTests), nameof(AutoencoderGradientTests.Sparsity_penalty_gradients_match_the_double_precision_reference), null),
        ["masking-noise"] = (typeof(AutoencoderGradientTests), nameof(AutoencoderGradientTests.Denoising_objective_gradients_match_the_double_precision_reference_for_fixed_noise), NoiseKind.Masking),
        ["gaussian-noise"] = (typeof(AutoencoderGradientTests), nameof(AutoencoderGradientTests.Denoising_objective_gradients_match_the_double_precision_reference_for_fixed_noise), NoiseKind.Gaussian),
        ["code"] = (typeof(AutoencoderGradientTests), nameof(AutoencoderGradientTests.Code_layer_passes_values_and_gradients_through), null),
    };

    [Fact]
    public void Every_registered_kind_has_a_gradient_check_and_no_check_names_an_unregistered_kind()
    {
        var registered = LayerKinds.All.Select(k => k.Name).ToHashSet();
        Assert.Empty(registered.Except(GradientChecks.Keys));
        Assert.Empty(GradientChecks.Keys.Except(registered));
        foreach (var (kind, (type, name, argument)) in GradientChecks)
        {
            var method = type.GetMethod(name, BindingFlags.Public | BindingFlags.Instance)
                         ?? throw new InvalidOperationException($"{kind}: {type.Name}.{name} does not exist.");
            Assert.True(method.GetCustomAttributes<FactAttribute>().Any(), $"{kind}: {type.Name}.{name} is not a test.");
            if (argument is null) continue;
            var cases = method.GetCustomAttributes<InlineDataAttribute>().Select(a => a.GetData(method).Single()[0]);
            Assert.True(cases.Contains(argument), $"{kind}: {type.Name}.{name} has no case for {argument}.");
        }
    }

    [Fact]
    public void Kind_names_are_unique_and_the_ones_without_fields_are_what_LayerSpec_Of_builds()
    {
        Assert.Equal(LayerKinds.All.Count, LayerKinds.All.Select(k => k.Name).Distinct().Count());
        foreach (var kind in LayerKinds.All)
        {
            Assert.Equal(kind.Name, kind.Example.Type);
            if (kind.HasFields) Assert.Throws<ArgumentException>(() => LayerSpec.Of(kind.Name));
            else Assert.Equal(kind.Example, LayerSpec.Of(kind.Name));
        }
        Assert.Throws<ArgumentException>(() => LayerSpec.Of("sparse-coding"));
        Assert.Throws<ArgumentException>(() => LayerSpec.Pool("dense", 2));
        Assert.Equal(PoolingKind.Lp, ((PoolSpec)LayerSpec.Pool("lppool", 3, p: 3f)).Pooling);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ActivationSpec(Activation.Identity));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_kind_reads_back_from_its_json_and_builds_with_the_shape_it_declares(string name)
    {
        var spec = NetAround(LayerKinds.Find(name)!.Example);
        var json = spec.ToJson();
        var back = FeedForwardSpec.FromJson(new StrictJson(JsonNode.Parse(json.ToJsonString()), "arch.json"));
        Assert.Equal(spec.Layers, back.Layers);
        Assert.Equal(json.ToJsonString(), back.ToJson().ToJsonString());

        using var backend = new CpuBackend();
        var net = new FeedForwardNet(backend, back, seed: 3);
        var x = backend.Allocate(4, spec.InputLength);
        var y = net.Predict(x);
        Assert.Equal([4, 3], y.Shape.ToArray());
        Assert.Equal(3, spec.OutputLength);
    }

    [Fact]
    public void An_unknown_type_or_key_is_an_error_naming_it()
    {
        static FormatException Parse(string layer) => Assert.Throws<FormatException>(() => FeedForwardSpec.FromJson(new StrictJson(
            JsonNode.Parse($$"""{"input":[2,6,6],"layers":[{{layer}},{"type":"dense","units":2}]}"""), "arch.json")));
        var e = Parse("""{"type":"no-such-layer"}""");
        Assert.Contains("layers[0].type", e.Message);
        Assert.Contains(LayerKinds.Names, e.Message);
        foreach (var kind in LayerKinds.All.Where(k => !k.HasFields))
            Assert.Contains("layers[0].units", Parse($$"""{"type":"{{kind.Name}}","units":3}""").Message);
    }
}
