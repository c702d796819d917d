using Shinso.Backends;
using Shinso.Models.Boltzmann;
using Shinso.Models.DeepBoltzmann;
using Shinso.Random;

namespace Shinso.Tests.DeepBoltzmann;

/// <summary>Naive double-precision twins of the DBM's sums, by enumerating every state of every layer.</summary>
internal static class NaiveDbm
{
    public static DeepBoltzmannMachine Random(IBackend backend, int[] sizes, ulong seed, float weightStd, float biasStd)
    {
        var dbm = new DeepBoltzmannMachine(backend, sizes, seed, weightStd);
        for (int k = 0; k < sizes.Length; k++) backend.SampleGaussian(new RandomStream(seed, 100 + (ulong)k), 0, 0f, biasStd, dbm.Biases[k]);
        return dbm;
    }

    public sealed record Params(int[] Sizes, double[][] W, double[][] B);

    public static Params Read(DeepBoltzmannMachine dbm) => new(
        [.. dbm.LayerSizes],
        dbm.Weights.Select(w => RestrictedBoltzmannMachine.Download(w).Select(x => (double)x).ToArray()).ToArray(),
        dbm.Biases.Select(b => RestrictedBoltzmannMachine.Download(b).Select(x => (double)x).ToArray()).ToArray());

    /// <summary>-E(x) of one joint state.</summary>
    public static double NegativeEnergy(Params p, double[][] x)
    {
        double e = 0;
        for (int k = 0; k < p.Sizes.Length; k++)
            for (int i = 0; i < p.Sizes[k]; i++) e += p.B[k][i] * x[k][i];
        for (int k = 0; k + 1 < p.Sizes.Length; k++)
            for (int i = 0; i < p.Sizes[k]; i++)
                for (int j = 0; j < p.Sizes[k + 1]; j++) e += x[k][i] * p.W[k][i * p.Sizes[k + 1] + j] * x[k + 1][j];
        return e;
    }

    /// <summary>Every joint state with its -E, the visible layer fixed when <paramref name="visible"/> is given.</summary>
    public static IEnumerable<(double[][] X, double NegativeEnergy)> States(Params p, double[]? visible = null)
    {
        int first = visible is null ? 0 : 1;
        int bits = p.Sizes.Skip(first).Sum();
        for (long s = 0; s < 1L << bits; s++)
        {
            var x = p.Sizes.Select(n => new double[n]).ToArray();
            if (visible is not null) visible.CopyTo(x[0], 0);
            int u = 0;
            for (int k = first; k < p.Sizes.Length; k++)
                for (int i = 0; i < p.Sizes[k]; i++, u++) x[k][i] = (s >> u) & 1;
            yield return (x, NegativeEnergy(p, x));
        }
    }

    public static double LogSumExp(IEnumerable<double> values)
    {
        var a = values.ToArray();
        double max = a.Max();
        return max + Math.Log(a.Sum(v => Math.Exp(v - max)));
    }

    public static double LogPartition(Params p) => LogSumExp(States(p).Select(s => s.NegativeEnergy));

    /// <summary>E_model[x_k,i x_(k+1),j] and E_model[x_k,i] by enumeration.</summary>
    public static (double[][] Pairs, double[][] Singles) ModelStatistics(Params p)
    {
        double logZ = LogPartition(p);
        var pairs = Enumerable.Range(0, p.Sizes.Length - 1).Select(k => new double[p.Sizes[k] * p.Sizes[k + 1]]).ToArray();
        var singles = p.Sizes.Select(n => new double[n]).ToArray();
        foreach (var (x, ne) in States(p))
        {
            double prob = Math.Exp(ne - logZ);
            for (int k = 0; k < p.Sizes.Length; k++)
            {
                for (int i = 0; i < p.Sizes[k]; i++) singles[k][i] += prob * x[k][i];
                if (k + 1 < p.Sizes.Length)
                    for (int i = 0; i < p.Sizes[k]; i++)
                        for (int j = 0; j < p.Sizes[k + 1]; j++) pairs[k][i * p.Sizes[k + 1] + j] += prob * x[k][i] * x[k + 1][j];
            }
        }
        return (pairs, singles);
    }
}
