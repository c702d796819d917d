namespace Shinso.Tests;

/// <summary>Shared test inputs.</summary>
internal static class TestData
{
    /// <summary>The folder of the embedded Fashion-MNIST subset.</summary>
    public static string EmbeddedSubset => Data.DatasetTests.SubsetDirectory();
}
