using System.Security.Cryptography;
using System.Text;

namespace Shinso.IO;

/// <summary>
/// Writes files all-or-nothing: the content goes to a temporary file in the same directory
/// (<c>path + ".tmp-" + random</c>), is flushed to disk, and is then renamed over
/// <c>path</c>. If writing fails, the temporary file is deleted and any existing file at
/// <c>path</c> is left as it was; readers never see a half-written file.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> with the bytes that <paramref name="write"/> puts into the stream it is given.</summary>
    /// <param name="path">The destination; its directory is created if missing.</param>
    /// <param name="write">Writes the whole content. If it throws, nothing at <paramref name="path"/> changes.</param>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string? directory = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        string temp = full + ".tmp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, stream => stream.Write(copy));
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> atomically, as UTF-8 without a byte-order mark.</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        WriteAllBytes(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text));
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
