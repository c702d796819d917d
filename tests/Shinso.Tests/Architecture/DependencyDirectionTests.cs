using System.Reflection;
using System.Reflection.Emit;
using Shinso.Backends;

namespace Shinso.Tests.Architecture;

/// <summary>
/// The core's rooms depend downwards only: models -> layers, losses, optimizers -> backends (with tensors, their
/// seam) -> kernels -> random, numerics and the shared operation types. Read from the compiled assembly: every type a
/// low room's types name in their signatures, fields, attributes and method bodies (the IL's type, method and field
/// tokens), so partly qualified names, global usings and aliases cannot hide a reference.
/// </summary>
public sealed class DependencyDirectionTests
{
    private static readonly string[] Bottom = ["Operations", "Numerics", "Profiling"];
    private static readonly string[] BelowKernels = [.. Bottom, "Random"];
    private static readonly string[] BelowBackends = [.. BelowKernels, "Kernels"];
    private static readonly string[] BelowLayers = [.. BelowBackends, "Backends", "Tensors"];

    /// <summary>What each low room may reference besides itself; rooms above these (models, training) are not restricted.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Operations"] = [],
        ["Numerics"] = [],
        // Timers every room may open spans on: nothing below them.
        ["Profiling"] = [],
        ["Random"] = Bottom,
        ["Kernels"] = BelowKernels,
        // A tensor knows the backend that owns its storage and a backend takes tensors: the seam is one room in two namespaces.
        ["Tensors"] = [.. BelowBackends, "Backends"],
        ["Backends"] = [.. BelowBackends, "Tensors"],
        ["Layers"] = [.. BelowLayers, "Losses"],
        ["Losses"] = BelowLayers,
        ["Optimizers"] = [.. BelowLayers, "Layers"],
        ["Data"] = BelowKernels,
        // Model files copy tensors to and from the host through the backend that owns them.
        ["IO"] = [.. BelowKernels, "Tensors", "Backends"],
    };

    private static readonly Dictionary<short, OperandType> Operands = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value, o => o.OperandType);

    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>The room of a core type: the namespace segment after <c>Shinso.</c>, or null for other assemblies.</summary>
    private static string? Room(Type? type)
    {
        while (type is { IsNested: true }) type = type.DeclaringType;
        if (type is null || type.Assembly != typeof(IBackend).Assembly || type.Namespace is not { } ns || !ns.StartsWith("Shinso.", StringComparison.Ordinal)) return null;
        return ns["Shinso.".Length..].Split('.')[0];
    }

    private static IEnumerable<Type> Named(Type type)
    {
        if (type.HasElementType) { foreach (var t in Named(type.GetElementType()!)) yield return t; yield break; }
        yield return type;
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
            foreach (var argument in type.GetGenericArguments()) foreach (var t in Named(argument)) yield return t;
    }

    /// <summary>The types <paramref name="type"/> names outside its method bodies.</summary>
    private static IEnumerable<Type> SignatureTypes(Type type)
    {
        if (type.BaseType is { } b) yield return b;
        foreach (var i in type.GetInterfaces()) yield return i;
        foreach (var a in type.GetCustomAttributesData()) yield return a.AttributeType;
        foreach (var f in type.GetFields(Everything)) yield return f.FieldType;
        foreach (var p in type.GetProperties(Everything)) yield return p.PropertyType;
        foreach (var m in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
        {
            if (m is MethodInfo mi) yield return mi.ReturnType;
            foreach (var p in m.GetParameters()) yield return p.ParameterType;
        }
    }

    /// <summary>The declaring types of the members and the types that <paramref name="method"/>'s IL names by token.</summary>
    private static IEnumerable<Type> BodyTypes(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        var module = method.Module;
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            short code = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var operand = Operands[code];
            int size = operand switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (operand is OperandType.InlineType or OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok)
            {
                int token = BitConverter.ToInt32(il, i);
                MemberInfo? member = null;
                try { member = module.ResolveMember(token, typeArgs, methodArgs); }
                catch (ArgumentException) { }
                if (member is Type t) yield return t;
                else if (member?.DeclaringType is { } declaring) yield return declaring;
                if (member is MethodInfo called) { yield return called.ReturnType; foreach (var p in called.GetParameters()) yield return p.ParameterType; }
                if (member is FieldInfo field) yield return field.FieldType;
            }
            i += size;
        }
    }

    [Fact]
    public void Every_low_room_references_only_the_rooms_below_it()
    {
        var violations = new SortedSet<string>();
        int checkedTypes = 0;
        foreach (var type in typeof(IBackend).Assembly.GetTypes())
        {
            if (Room(type) is not { } room || !Allowed.TryGetValue(room, out var allowed)) continue;
            checkedTypes++;
            var used = SignatureTypes(type).Concat(type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything))
                .Where(m => !m.IsAbstract).SelectMany(BodyTypes));
            foreach (var t in used.SelectMany(Named))
                if (Room(t) is { } other && other != room && !allowed.Contains(other))
                    violations.Add($"{type.FullName} ({room}) uses {t.FullName} ({other})");
        }
        Assert.True(checkedTypes > 50, $"only {checkedTypes} types were checked.");
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }
}
