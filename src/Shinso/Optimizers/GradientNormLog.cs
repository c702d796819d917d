using System.Globalization;
using Shinso.Layers;

namespace Shinso.Optimizers;

/// <summary>
/// Diagnosis of a run that misbehaves: at every update, the L2 norm of each parameter's gradient and of all of them together,
/// as CSV (<c>step</c>, one column per parameter, <c>total</c>), summed in double so that an exploding gradient's norm is
/// still a number. Put first among an optimizer's hooks it sees the gradients the gradient source gave, before weight decay
/// or clipping change them. It reads formed gradients, so a rule that fuses gradient products into its update (CD-1's)
/// forms them first, which costs time.
/// </summary>
public sealed class GradientNormLog(TextWriter writer, Optimizer optimizer, bool writeHeader = true) : IOptimizerHook, IDisposable
{
    private bool _headerDue = writeHeader;
    private float[] _host = [];

    /// <summary>
    /// The log of a run in <paramref name="path"/>. A new run (<paramref name="resumedStep"/> null) starts the file afresh. A
    /// resumed run keeps the header and the rows of the updates its checkpoint holds (step at most
    /// <paramref name="resumedStep"/>), drops later and partial rows (a run cut off after its checkpoint made them), and appends.
    /// </summary>
    public static GradientNormLog Open(string path, Optimizer optimizer, long? resumedStep)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (resumedStep is not { } step || !File.Exists(path) || new FileInfo(path).Length == 0)
            return new GradientNormLog(new StreamWriter(path, append: false), optimizer);
        var lines = File.ReadAllLines(path);
        bool header = lines.Length > 0 && lines[0].StartsWith("step,", StringComparison.Ordinal);
        var kept = new List<string>();
        if (header)
        {
            int columns = lines[0].Split(',').Length;
            kept.Add(lines[0]);
            for (int i = 1; i < lines.Length; i++)
            {
                var cells = lines[i].Split(',');
                if (cells.Length == columns && long.TryParse(cells[0], NumberStyles.None, CultureInfo.InvariantCulture, out long row) && row <= step)
                    kept.Add(lines[i]);
            }
        }
        // Written beside and renamed over, so a run cut off here still has its old log.
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, kept.Count == 0 ? "" : string.Join('\n', kept) + "\n");
        File.Move(temporary, path, overwrite: true);
        return new GradientNormLog(new StreamWriter(path, append: true), optimizer, writeHeader: !header);
    }

    /// <summary>Writes one line for the update about to be made (numbered as <see cref="Optimizer.StepCount"/> will be after it).</summary>
    public void BeforeUpdate(IReadOnlyList<Parameter> parameters)
    {
        if (_headerDue)
        {
            writer.Write("step");
            foreach (var p in parameters) writer.Write("," + p.Name);
            writer.WriteLine(",total");
            _headerDue = false;
        }
        writer.Write((optimizer.StepCount + 1).ToString(CultureInfo.InvariantCulture));
        double total = 0;
        foreach (var p in parameters)
        {
            double squares = SumOfSquares(p.Gradient);
            total += squares;
            writer.Write("," + Math.Sqrt(squares).ToString("G9", CultureInfo.InvariantCulture));
        }
        writer.WriteLine("," + Math.Sqrt(total).ToString("G9", CultureInfo.InvariantCulture));
    }

    /// <inheritdoc />
    public void AfterUpdate(IReadOnlyList<Parameter> parameters) { }

    /// <summary>Puts what is written on disk: a run calls it with each checkpoint, so the file holds the rows the checkpoint does.</summary>
    public void Flush() => writer.Flush();

    /// <summary>Flushes and closes the writer.</summary>
    public void Dispose() => writer.Dispose();

    /// <summary>The sum of squares in double, on the host: a float sum overflows long before the elements do.</summary>
    private double SumOfSquares(Tensors.Tensor gradient)
    {
        ReadOnlySpan<float> values;
        if (gradient.IsHost) values = gradient.Span;
        else
        {
            if (_host.Length < gradient.Length) _host = new float[gradient.Length];
            gradient.Backend.Download(gradient, _host.AsSpan(0, gradient.Length));
            values = _host.AsSpan(0, gradient.Length);
        }
        double sum = 0;
        foreach (float v in values) sum += (double)v * v;
        return sum;
    }
}
