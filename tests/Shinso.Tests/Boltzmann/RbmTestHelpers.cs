using Shinso.Backends;
using Shinso.Models.Boltzmann;
using Shinso.Random;

namespace Shinso.Tests.Boltzmann;

/// <summary>Naive double-precision twins of the RBM computations, for tiny machines.</summary>
internal static class Naive
{
    public static RestrictedBoltzmannMachine Random(IBackend backend, int nv, int nh, ulong seed, float weightStd, float biasStd,
        VisibleUnits units = VisibleUnits.Bernoulli, bool learnSigma = false)
    {
        var rbm = new RestrictedBoltzmannMachine(backend, nv, nh, units, learnSigma, seed, weightStd);
        backend.SampleGaussian(new RandomStream(seed, 1), 0, 0f, biasStd, rbm.VisibleBias);
        backend.SampleGaussian(new RandomStream(seed, 2), 0, 0f, biasStd, rbm.HiddenBias);
        if (learnSigma)
        {
            backend.SampleGaussian(new RandomStream(seed, 3), 0, 0f, 0.3f, rbm.LogSigma);
            rbm.RefreshSigma();
        }
        return rbm;
    }

    public sealed record Params(int Nv, int Nh, double[] W, double[] B, double[] C, double[] Sigma, bool Gaussian);

    public static Params Read(RestrictedBoltzmannMachine rbm)
    {
        static double[] D(float[] a) => a.Select(x => (double)x).ToArray();
        return new Params(rbm.VisibleCount, rbm.HiddenCount, D(RestrictedBoltzmannMachine.Download(rbm.Weights)),
            D(RestrictedBoltzmannMachine.Download(rbm.VisibleBias)), D(RestrictedBoltzmannMachine.Download(rbm.HiddenBias)),
            D(RestrictedBoltzmannMachine.Download(rbm.Sigma)), rbm.Units == VisibleUnits.Gaussian);
    }

    public static double Softplus(double x) => x > 0 ? x + Math.Log(1 + Math.Exp(-x)) : Math.Log(1 + Math.Exp(x));

    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    public static double Energy(Params p, ReadOnlySpan<float> v, ReadOnlySpan<float> h)
    {
        double e = 0;
        for (int i = 0; i < p.Nv; i++)
        {
            double vi = p.Gaussian ? v[i] / p.Sigma[i] : v[i];
            e += p.Gaussian ? (v[i] - p.B[i]) * (v[i] - p.B[i]) / (2 * p.Sigma[i] * p.Sigma[i]) : -p.B[i] * v[i];
            for (int j = 0; j < p.Nh; j++) e -= vi * p.W[i * p.Nh + j] * h[j];
        }
        for (int j = 0; j < p.Nh; j++) e -= p.C[j] * h[j];
        return e;
    }

    /// <summary>F(v) = -log sum_h exp(-E(v, h)) by enumerating h.</summary>
    public static double FreeEnergyByEnumeration(Params p, ReadOnlySpan<float> v)
    {
        var terms = new List<double>();
        var h = new float[p.Nh];
        for (int s = 0; s < 1 << p.Nh; s++)
        {
            for (int j = 0; j < p.Nh; j++) h[j] = (s >> j) & 1;
            terms.Add(-Energy(p, v, h));
        }
        return -LogSumExp(terms);
    }

    /// <summary>Closed-form F(v) for Bernoulli units.</summary>
    public static double FreeEnergy(Params p, ReadOnlySpan<float> v)
    {
        double f = 0;
        for (int i = 0; i < p.Nv; i++) f -= p.B[i] * v[i];
        for (int j = 0; j < p.Nh; j++)
        {
            double a = p.C[j];
            for (int i = 0; i < p.Nv; i++) a += v[i] * p.W[i * p.Nh + j];
            f -= Softplus(a);
        }
        return f;
    }

    /// <summary>log Z by enumerating every (v, h) pair (Bernoulli units).</summary>
    public static double LogZByJointEnumeration(Params p)
    {
        var terms = new List<double>();
        var v = new float[p.Nv];
        var h = new float[p.Nh];
        for (int a = 0; a < 1 << p.Nv; a++)
        {
            for (int i = 0; i < p.Nv; i++) v[i] = (a >> i) & 1;
            for (int s = 0; s < 1 << p.Nh; s++)
            {
                for (int j = 0; j < p.Nh; j++) h[j] = (s >> j) & 1;
                terms.Add(-Energy(p, v, h));
            }
        }
        return LogSumExp(terms);
    }

    /// <summary>The exact distribution p(v) over the 2^nv visible states (state index bit i = v_i).</summary>
    public static double[] VisibleDistribution(Params p)
    {
        int n = 1 << p.Nv;
        var logp = new double[n];
        var v = new float[p.Nv];
        for (int a = 0; a < n; a++)
        {
            for (int i = 0; i < p.Nv; i++) v[i] = (a >> i) & 1;
            logp[a] = -FreeEnergy(p, v);
        }
        double z = LogSumExp(logp);
        return logp.Select(x => Math.Exp(x - z)).ToArray();
    }

    /// <summary>p(h_j = 1 | v).</summary>
    public static double[] HiddenProbabilities(Params p, ReadOnlySpan<float> v)
    {
        var r = new double[p.Nh];
        for (int j = 0; j < p.Nh; j++)
        {
            double a = p.C[j];
            for (int i = 0; i < p.Nv; i++) a += v[i] * p.W[i * p.Nh + j];
            r[j] = Sigmoid(a);
        }
        return r;
    }

    public static double LogSumExp(IReadOnlyList<double> x)
    {
        double m = x.Max();
        double s = 0;
        foreach (double t in x) s += Math.Exp(t - m);
        return m + Math.Log(s);
    }
}
