namespace Shinso.Data;

/// <summary>
/// A data file that cannot be read as what it claims to be. The message is <c>"{path}: {field}: {detail}"</c>:
/// the file, the part of it that is wrong (an array, a line and column, a header field) and what was expected.
/// </summary>
public class DataFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public DataFormatException(string path, string field, string detail, Exception? innerException = null)
        : base($"{path}: {field}: {detail}", innerException)
    {
        FilePath = path;
        Field = field;
    }

    /// <summary>The file that failed to read.</summary>
    public string FilePath { get; }

    /// <summary>The part of the file that is wrong, e.g. <c>magic number</c>, <c>x_train: descr</c> or <c>line 3, column 2</c>.</summary>
    public string Field { get; }
}

/// <summary>A data set that is well formed but does not fit the model asked for (its sample shape or class count); the message names both.</summary>
public sealed class DataMismatchException(string message) : ArgumentException(message);
