using System.Globalization;
using Shinso.Layers;

namespace Shinso.Optimizers;

/// <summary>
/// Diagnosis of a run that misbehaves: at every update, the L2 norm of each parameter's gradient and of all of them together,
/// as CSV (<c>step</c>, one column per parameter, <c>total</c>). Put first among an optimizer's hooks it sees the gradients
/// the gradient source gave, before weight decay or clipping change them. It reads formed gradients, so a rule that fuses
/// gradient products into its update (CD-1's) forms them first, which costs time.
/// </summary>
public sealed class GradientNormLog(TextWriter writer, Optimizer optimizer, bool writeHeader = true) : IOptimizerHook, IDisposable
{
    private bool _headerDue = writeHeader;

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
            double squares = p.Gradient.Backend.SumOfSquares(p.Gradient);
            total += squares;
            writer.Write("," + Math.Sqrt(squares).ToString("G9", CultureInfo.InvariantCulture));
        }
        writer.WriteLine("," + Math.Sqrt(total).ToString("G9", CultureInfo.InvariantCulture));
    }

    /// <inheritdoc />
    public void AfterUpdate(IReadOnlyList<Parameter> parameters) { }

    /// <summary>Flushes and closes the writer.</summary>
    public void Dispose() => writer.Dispose();
}
