// Runs the [Fact] and [Theory] methods of the OpenCL test classes (namespace Shinso.Tests.OpenCL) by reflection,
// for machines with no .NET SDK and so no `dotnet test`: a lent GPU machine gets a self-contained publish of this
// program. Arguments are substrings of class names to run (default: the kernel and training classes); the device
// is SHINSO_TEST_OPENCL_DEVICE, as in the suite. Ends with "N passed, N failed" and exits 1 on any failure.
using System.Diagnostics;
using System.Reflection;
using Shinso.Tests.OpenCL;

string[] filters = args.Length > 0 ? args : ["OpenClKernelTests", "OpenClTrainingTests"];
var testClasses = typeof(TwinBackends).Assembly.GetTypes()
    .Where(t => t.Namespace == typeof(TwinBackends).Namespace && t.IsPublic && !t.IsAbstract && filters.Any(f => t.Name.Contains(f, StringComparison.Ordinal)))
    .OrderBy(t => t.Name, StringComparer.Ordinal)
    .ToList();
if (testClasses.Count == 0)
{
    Console.Error.WriteLine($"No OpenCL test class matches {string.Join(", ", filters)}.");
    return 2;
}

using var twins = new TwinBackends();
Console.WriteLine($"device: {twins.Device.DeviceInfo.Name} ({twins.Device.DeviceInfo.Platform})");
int passed = 0, failed = 0;
foreach (var type in testClasses)
foreach (var method in type.GetMethods().Where(m => m.GetCustomAttributes<FactAttribute>().Any()))
{
    foreach (object?[] arguments in Cases(type, method))
    {
        string name = $"{type.Name}.{method.Name}({string.Join(", ", arguments)})";
        object? instance = type.GetConstructors()[0].GetParameters().Length == 1 ? Activator.CreateInstance(type, twins) : Activator.CreateInstance(type);
        var clock = Stopwatch.StartNew();
        try
        {
            method.Invoke(instance, arguments);
            passed++;
            Console.WriteLine($"PASS {name} {clock.ElapsedMilliseconds} ms");
        }
        catch (TargetInvocationException e)
        {
            failed++;
            Console.WriteLine($"FAIL {name}: {e.InnerException?.Message}");
        }
        finally
        {
            (instance as IDisposable)?.Dispose();
        }
    }
}
Console.WriteLine($"{passed} passed, {failed} failed");
return failed == 0 ? 0 : 1;

// One argument list per [InlineData] and per row of each [MemberData]; one empty list for a [Fact].
static IEnumerable<object?[]> Cases(Type type, MethodInfo method)
{
    var cases = new List<object?[]>();
    foreach (var inline in method.GetCustomAttributes<InlineDataAttribute>()) cases.AddRange(inline.GetData(method));
    foreach (var member in method.GetCustomAttributes<MemberDataAttribute>())
    {
        var source = (member.MemberType ?? type).GetMethod(member.MemberName, BindingFlags.Public | BindingFlags.Static)
                     ?? throw new InvalidOperationException($"{type.Name}.{method.Name}: no static method {member.MemberName} for its MemberData.");
        cases.AddRange((IEnumerable<object?[]>)source.Invoke(null, null)!);
    }
    if (cases.Count == 0 && method.GetCustomAttributes<TheoryAttribute>().Any())
        throw new InvalidOperationException($"{type.Name}.{method.Name} is a theory with no data this runner reads.");
    if (cases.Count == 0) cases.Add([]);
    return cases;
}
