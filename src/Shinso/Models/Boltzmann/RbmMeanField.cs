using Shinso.Operations;
using Shinso.Tensors;

namespace Shinso.Models.Boltzmann;

/// <summary>Which variational family <see cref="RbmMeanField"/> fits.</summary>
public enum MeanFieldMethod
{
    /// <summary>
    /// Naive mean-field over every unobserved unit: <c>q(v, h) = prod_i q_i(v_i) prod_j q_j(h_j)</c>, fitted by alternating
    /// the two layers' exact coordinate updates (each layer's units are independent given the other).
    /// </summary>
    Naive,

    /// <summary>
    /// Mean-field after integrating the Gaussian visible layer out exactly (Takahashi &amp; Yasuda, J. Phys. Soc. Jpn. 85,
    /// 034001, 2016): what remains is a Boltzmann machine on the hidden units with couplings <c>J_jk = sum_i W_ij W_ik</c>
    /// over the unobserved visible units, fitted by naive mean-field; the implied joint is <c>q(h) p(v | h)</c>.
    /// Gaussian visible units only.
    /// </summary>
    Marginalized,
}

/// <summary>Iteration settings of <see cref="RbmMeanField.Infer"/>.</summary>
/// <param name="MaxIterations">The iteration cap (at least 1).</param>
/// <param name="Tolerance">Converged when no hidden mean moved by more than this in one iteration.</param>
/// <param name="Damping">
/// The share of the old hidden means kept at each update, in [0, 1): <c>m = damping m + (1 - damping) f(m)</c>. Null takes the
/// method's default: 0 for <see cref="MeanFieldMethod.Naive"/>, whose alternating updates never oscillate, and 0.5 for
/// <see cref="MeanFieldMethod.Marginalized"/>, whose hidden units are coupled to each other and updated in parallel.
/// </param>
public sealed record MeanFieldOptions(int MaxIterations = 50, double Tolerance = 1e-6, float? Damping = null)
{
    /// <summary>The damping used for <paramref name="method"/>.</summary>
    public float DampingFor(MeanFieldMethod method) => Damping ?? (method == MeanFieldMethod.Marginalized ? 0.5f : 0f);
}

/// <summary>What <see cref="RbmMeanField.Infer"/> found.</summary>
/// <param name="Iterations">Iterations run.</param>
/// <param name="Converged">Whether the tolerance was met within the cap.</param>
/// <param name="FreeEnergies">
/// Per row, the variational free energy <c>E_q[E] - H[q]</c> in nats, of the distribution of the unobserved units given the
/// observed ones; it bounds the exact <c>-log sum_h integral exp(-E) dv_unobserved</c> from above, and the gap is
/// <c>KL(q || p)</c>.
/// </param>
public sealed record MeanFieldResult(int Iterations, bool Converged, double[] FreeEnergies);

/// <summary>
/// Mean-field inference in an RBM with some visible units observed: the approximate marginals of the hidden units and the
/// means of the unobserved visible units (for image completion), with the variational free energy of each row.
/// </summary>
/// <remarks>
/// <para>Naive mean-field alternates <c>x = observed ? v : E[v | m]</c> and <c>m = sigmoid(c + (x / sigma) W)</c>.</para>
/// <para>For Gaussian visible units, integrating the unobserved ones out of <c>exp(-E)</c> gives, with <c>a = W h</c>, the
/// exponent <c>c.h + sum_(i observed) (v_i / sigma_i) a_i + sum_(i unobserved) (b_i a_i / sigma_i + a_i^2 / 2)</c>. Its mean-field
/// update is the naive one plus the term <c>sum_(i unobserved) W_ij^2 (1/2 - m_j)</c>, which comes from the variance of
/// <c>a_i</c> that the naive family drops; for the same <c>m</c> the free energies differ by exactly
/// <c>sum_(i unobserved) sum_j W_ij^2 m_j (1 - m_j) / 2</c>, so at any <c>m</c> the marginalized bound is the tighter one.</para>
/// <para>Every batch operation runs through the RBM's backend; the free energies are summed on the host in double.</para>
/// </remarks>
public static class RbmMeanField
{
    private static readonly double LogSqrtTwoPi = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>
    /// Fits the mean-field approximation of <c>p(v_unobserved, h | v_observed)</c> for each row.
    /// </summary>
    /// <param name="rbm">The machine.</param>
    /// <param name="visible">[N, visible]: the observed values; entries where <paramref name="observed"/> is 0 are not used but must be finite (they are multiplied by 0).</param>
    /// <param name="observed">[N, visible] of 1 (observed) and 0 (to infer), or null when no visible unit is observed.</param>
    /// <param name="method">The variational family.</param>
    /// <param name="options">Iteration settings.</param>
    /// <param name="hiddenMeans">[N, hidden] receives <c>q(h_j = 1)</c>.</param>
    /// <param name="visibleMeans">[N, visible] receives the observed values where observed and <c>E_q[v_i]</c> elsewhere.</param>
    /// <exception cref="ArgumentException">A shape does not match, or the marginalized form is asked of Bernoulli visible units.</exception>
    public static MeanFieldResult Infer(RestrictedBoltzmannMachine rbm, Tensor visible, Tensor? observed, MeanFieldMethod method,
        MeanFieldOptions options, Tensor hiddenMeans, Tensor visibleMeans)
    {
        ArgumentNullException.ThrowIfNull(rbm);
        ArgumentNullException.ThrowIfNull(visible);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(hiddenMeans);
        ArgumentNullException.ThrowIfNull(visibleMeans);
        if (method == MeanFieldMethod.Marginalized && rbm.Units != VisibleUnits.Gaussian)
            throw new ArgumentException("Marginalized mean-field integrates out Gaussian visible units; this RBM's visible units are Bernoulli (use naive mean-field).", nameof(method));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxIterations, 1, nameof(options));
        if (!(options.Tolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(options), $"Tolerance must be >= 0, got {options.Tolerance}.");
        float damping = options.DampingFor(method);
        if (!(damping >= 0f && damping < 1f)) throw new ArgumentOutOfRangeException(nameof(options), $"Damping must lie in [0, 1), got {damping}.");
        int n = visible.Rows, nv = rbm.VisibleCount, nh = rbm.HiddenCount;
        CheckShape(visible, n, nv, nameof(visible));
        if (observed is not null) CheckShape(observed, n, nv, nameof(observed));
        CheckShape(hiddenMeans, n, nh, nameof(hiddenMeans));
        CheckShape(visibleMeans, n, nv, nameof(visibleMeans));

        var be = rbm.Backend;
        var ws = rbm.Workspace;
        var update = ws.Get("mean-field-update", n, nh);
        var scratch = ws.Get("mean-field-scratch", n, nh);
        var squaredWeights = ws.Get("mean-field-squared-weights", nv, nh);
        be.Multiply(rbm.Weights, rbm.Weights, squaredWeights);
        PrepareUnobserved(rbm, observed);
        Tensor? selfCoupling = null;
        if (method == MeanFieldMethod.Marginalized)
        {
            // sum over the unobserved visible units of W_ij^2, per row and hidden unit.
            selfCoupling = ws.Get("mean-field-self-coupling", n, nh);
            if (observed is null)
            {
                var columnSums = ws.Get("mean-field-squared-weight-sums", 1, nh).Reshape(nh);
                be.SumColumns(squaredWeights, columnSums);
                be.Fill(selfCoupling, 0f);
                be.AddRowVector(selfCoupling, columnSums);
            }
            else
            {
                be.Gemm(Transpose.None, Transpose.None, 1f, ws.Get("mean-field-unobserved", n, nv), squaredWeights, 0f, selfCoupling);
            }
        }

        InitialVisible(rbm, visible, observed, visibleMeans);
        rbm.HiddenProbabilities(visibleMeans, hiddenMeans);
        var previous = new float[n * nh];
        var current = new float[n * nh];
        be.Download(hiddenMeans, previous);
        int iterations = 0;
        bool converged = false;
        while (iterations < options.MaxIterations)
        {
            iterations++;
            CompleteVisible(rbm, visible, observed, hiddenMeans, visibleMeans);
            rbm.HiddenInput(visibleMeans, update);
            if (selfCoupling is not null)
            {
                be.ScaleShift(hiddenMeans, -1f, 0.5f, scratch);
                be.Multiply(scratch, selfCoupling, scratch);
                be.Axpy(1f, scratch, update);
            }
            be.Activate(Activation.Sigmoid, update, update);
            if (damping > 0f) be.Axpby(damping, hiddenMeans, 1f - damping, update);
            be.Copy(update, hiddenMeans);
            be.Download(hiddenMeans, current);
            double largestStep = 0;
            for (int k = 0; k < current.Length; k++) largestStep = Math.Max(largestStep, Math.Abs(current[k] - previous[k]));
            // The tolerance applies to the undamped step |f(m) - m|, of which damping moves only (1 - damping).
            largestStep /= 1 - damping;
            (previous, current) = (current, previous);
            if (largestStep <= options.Tolerance)
            {
                converged = true;
                break;
            }
        }
        // The visible means that belong to the final hidden means (for the naive family also the best x for them).
        CompleteVisible(rbm, visible, observed, hiddenMeans, visibleMeans);
        return new MeanFieldResult(iterations, converged, FreeEnergies(rbm, observed, method, hiddenMeans, visibleMeans, squaredWeights));
    }

    /// <summary>Writes <c>1 - observed</c> to the workspace tensor <see cref="Clamp"/> reads.</summary>
    internal static void PrepareUnobserved(RestrictedBoltzmannMachine rbm, Tensor? observed)
    {
        if (observed is not null) rbm.Backend.ScaleShift(observed, -1f, 1f, rbm.Workspace.Get("mean-field-unobserved", observed.Rows, observed.Columns));
    }

    /// <summary>The starting point: observed values where observed, the visible biases' means elsewhere.</summary>
    internal static void InitialVisible(RestrictedBoltzmannMachine rbm, Tensor visible, Tensor? observed, Tensor x)
    {
        var be = rbm.Backend;
        var bias = rbm.Workspace.Get("mean-field-bias-mean", 1, rbm.VisibleCount).Reshape(rbm.VisibleCount);
        be.Copy(rbm.VisibleBias, bias);
        if (rbm.Units == VisibleUnits.Bernoulli) be.Activate(Activation.Sigmoid, bias, bias);
        be.Fill(x, 0f);
        be.AddRowVector(x, bias);
        Clamp(rbm, visible, observed, x);
    }

    /// <summary><c>x = observed ? v : E[v | h = m]</c>.</summary>
    private static void CompleteVisible(RestrictedBoltzmannMachine rbm, Tensor visible, Tensor? observed, Tensor hiddenMeans, Tensor x)
    {
        rbm.VisibleMean(hiddenMeans, x);
        Clamp(rbm, visible, observed, x);
    }

    /// <summary>
    /// <c>x = (1 - observed) x + observed v</c>, as two products so that observed entries are <c>v</c> bit for bit; reads the
    /// workspace's <c>mean-field-unobserved</c> tensor, which <see cref="PrepareUnobserved"/> fills.
    /// </summary>
    internal static void Clamp(RestrictedBoltzmannMachine rbm, Tensor visible, Tensor? observed, Tensor x)
    {
        if (observed is null) return;
        var be = rbm.Backend;
        var unobserved = rbm.Workspace.Get("mean-field-unobserved", x.Rows, x.Columns);
        var given = rbm.Workspace.Get("mean-field-clamp", x.Rows, x.Columns);
        be.Multiply(x, unobserved, x);
        be.Multiply(visible, observed, given);
        be.Axpy(1f, given, x);
    }

    /// <summary>
    /// <c>E_q[E] - H[q]</c> per row. With <c>x</c> the visible means and <c>m</c> the hidden ones, the naive family gives
    /// <c>V(x) - m . (c + (x / sigma) W) - H(m) - H_v</c>, where <c>V</c> is the visible-only energy and <c>H_v</c> the unobserved
    /// visible units' entropy (Bernoulli) or the Gaussians' <c>sum (1/2 + log(sqrt(2 pi) sigma_i))</c> after their mean-square
    /// term; the marginalized family subtracts <c>sum_(i unobserved) sum_j W_ij^2 m_j (1 - m_j) / 2</c> from it.
    /// </summary>
    private static double[] FreeEnergies(RestrictedBoltzmannMachine rbm, Tensor? observed, MeanFieldMethod method, Tensor hiddenMeans,
        Tensor x, Tensor squaredWeights)
    {
        var be = rbm.Backend;
        var ws = rbm.Workspace;
        int n = x.Rows, nv = rbm.VisibleCount, nh = rbm.HiddenCount;
        var pre = ws.Get("mean-field-update", n, nh);
        rbm.HiddenInput(x, pre);
        float[] preHost = RestrictedBoltzmannMachine.Download(pre);
        float[] m = RestrictedBoltzmannMachine.Download(hiddenMeans);
        float[] xs = RestrictedBoltzmannMachine.Download(x);
        float[]? mask = observed is null ? null : RestrictedBoltzmannMachine.Download(observed);
        float[] b = RestrictedBoltzmannMachine.Download(rbm.VisibleBias);
        float[] sigma = RestrictedBoltzmannMachine.Download(rbm.Sigma);
        float[]? variance = null;
        if (method == MeanFieldMethod.Marginalized)
        {
            var spread = ws.Get("mean-field-scratch", n, nh);
            be.ScaleShift(hiddenMeans, -1f, 1f, spread);
            be.Multiply(spread, hiddenMeans, spread);
            var visibleVariance = ws.Get("mean-field-clamp", n, nv);
            be.Gemm(Transpose.None, Transpose.Transposed, 1f, spread, squaredWeights, 0f, visibleVariance);
            variance = RestrictedBoltzmannMachine.Download(visibleVariance);
        }
        bool gaussian = rbm.Units == VisibleUnits.Gaussian;
        var result = new double[n];
        for (int r = 0; r < n; r++)
        {
            double f = 0;
            for (int i = 0; i < nv; i++)
            {
                int k = r * nv + i;
                bool isObserved = mask is not null && mask[k] != 0f;
                double xi = xs[k];
                if (gaussian)
                {
                    double s = sigma[i], d = (xi - b[i]) / s;
                    f += 0.5 * d * d;
                    if (!isObserved) f -= LogSqrtTwoPi + Math.Log(s) + (variance is null ? 0 : 0.5 * variance[k]);
                }
                else
                {
                    f -= b[i] * xi;
                    if (!isObserved) f -= BinaryEntropy(xi);
                }
            }
            for (int j = 0; j < nh; j++)
            {
                int k = r * nh + j;
                f -= m[k] * (double)preHost[k] + BinaryEntropy(m[k]);
            }
            result[r] = f;
        }
        return result;
    }

    private static double BinaryEntropy(double p)
    {
        double h = 0;
        if (p > 0) h -= p * Math.Log(p);
        if (p < 1) h -= (1 - p) * Math.Log(1 - p);
        return h;
    }

    private static void CheckShape(Tensor t, int rows, int columns, string name)
    {
        if (t.Rows != rows || t.Columns != columns)
            throw new ArgumentException($"{name} has shape {Tensor.ShapeText(t.Shape)}; expected [{rows}, {columns}].", name);
    }
}
