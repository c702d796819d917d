using Shinso.IO;

namespace Shinso.Tests.IO;

/// <summary>Assertions on saved model files.</summary>
internal static class ModelFileAssert
{
    /// <summary>Every tensor of <paramref name="expectedPath"/> is in <paramref name="actualPath"/>, bit for bit.</summary>
    public static void SameTensors(string expectedPath, string actualPath, string what)
    {
        var expected = ModelFile.Read(expectedPath);
        var actual = ModelFile.Read(actualPath);
        foreach (var tensor in expected.Tensors)
        {
            Assert.True(actual.TryGetTensor(tensor.Name, out var other), $"{what}: {tensor.Name} missing");
            Assert.True(tensor.Data.AsSpan().SequenceEqual(other.Data), $"{what}: {tensor.Name} differs");
        }
    }
}
