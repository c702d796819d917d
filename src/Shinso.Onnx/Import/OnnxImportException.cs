namespace Shinso.Onnx.Import;

/// <summary>An ONNX file or graph Shinso cannot read or run; the message names the file and the node, tensor or field.</summary>
public class OnnxImportException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public OnnxImportException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public OnnxImportException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A valid graph that needs an operator, or a form of one, that Shinso does not implement.</summary>
/// <param name="message">What is missing and where.</param>
/// <param name="operatorType">The operator (<c>op_type</c>) concerned.</param>
public sealed class OnnxUnsupportedException(string message, string operatorType) : OnnxImportException(message)
{
    /// <summary>The operator (<c>op_type</c>) concerned.</summary>
    public string OperatorType { get; } = operatorType;
}
