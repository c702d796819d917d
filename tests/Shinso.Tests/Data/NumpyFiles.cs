using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Shinso.Tests.Data;

/// <summary>Writes .npy arrays and .npz archives byte by byte as NumPy's format 1.0 lays them out, for the readers' tests.</summary>
internal static class NumpyFiles
{
    /// <summary>A .npy file: magic, version 1.0, a padded header dict, then the payload.</summary>
    public static byte[] Array(string descr, int[] shape, byte[] payload, bool fortranOrder = false)
    {
        string shapeText = "(" + string.Join(", ", shape) + (shape.Length == 1 ? ",)" : ")");
        string dict = $"{{'descr': '{descr}', 'fortran_order': {(fortranOrder ? "True" : "False")}, 'shape': {shapeText}, }}";
        int unpadded = 10 + dict.Length + 1;
        string header = dict + new string(' ', (64 - unpadded % 64) % 64) + "\n";
        var bytes = new byte[10 + header.Length + payload.Length];
        bytes[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(bytes, 1);
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header).CopyTo(bytes, 10);
        payload.CopyTo(bytes, 10 + header.Length);
        return bytes;
    }

    public static byte[] Floats(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    public static byte[] Int64s(long[] values)
    {
        var bytes = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
        return bytes;
    }

    /// <summary>An .npz: one zip entry NAME.npy per array, deflated as np.savez_compressed writes them.</summary>
    public static void Archive(string path, params (string Name, byte[] Npy)[] arrays)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, npy) in arrays)
        {
            var entry = zip.CreateEntry(name + ".npy", CompressionLevel.Optimal);
            using var stream = entry.Open();
            stream.Write(npy);
        }
    }
}
