using System.Diagnostics;
using Shinso.Backends;
using Shinso.Data;
using Shinso.Operations;
using Shinso.Random;
using Shinso.Tensors;

namespace Shinso.Models.SparseCoding;

/// <summary>How <see cref="DictionaryLearning"/> alternates between codes and atoms.</summary>
public sealed record DictionaryLearningOptions
{
    /// <summary>Atoms in the dictionary (more than the values per patch makes it overcomplete).</summary>
    public int Atoms { get; init; } = 256;

    /// <summary>Passes over the rows.</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Rows coded per dictionary update (256, as scikit-learn's default: more updates per pass, measured better than 512-2048 here).</summary>
    public int BatchRows { get; init; } = 256;

    /// <summary>Block coordinate descent sweeps over the atoms per update.</summary>
    public int Sweeps { get; init; } = 1;

    /// <summary>The lasso solver for the codes; its λ is the problem's.</summary>
    public FistaOptions Encoder { get; init; } = new();

    /// <summary>The seed of the initial atoms and of atoms restarted when no code uses them.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming the setting that is out of range.</summary>
    public void Validate()
    {
        if (Atoms < 1) throw new ArgumentException($"the dictionary needs at least 1 atom, got {Atoms}.", nameof(Atoms));
        if (Epochs < 0) throw new ArgumentException($"epochs must be >= 0, got {Epochs}.", nameof(Epochs));
        if (Sweeps < 1) throw new ArgumentException($"sweeps must be >= 1, got {Sweeps}.", nameof(Sweeps));
        if (BatchRows < 1) throw new ArgumentException($"the batch must hold at least 1 row, got {BatchRows}.", nameof(BatchRows));
        ArgumentNullException.ThrowIfNull(Encoder);
        Encoder.Validate();
    }
}

/// <summary>
/// One pass of <see cref="DictionaryLearning"/>: the mean objective and non-zeros of the codes it computed (each batch under the atoms of
/// its time), the most FISTA iterations a batch took, the atoms restarted and the seconds since learning began.
/// </summary>
public sealed record DictionaryEpoch(int Epoch, double MeanObjective, double MeanNonZeros, int Iterations, int RestartedAtoms, double Seconds);

/// <summary>
/// Learns an overcomplete dictionary for <c>min_{D,H} sum_i ½‖x_i − Dᵀh_i‖² + λ‖h_i‖₁</c> with atoms of norm at most 1 (Olshausen &amp; Field
/// 1996) by the online method of Mairal, Bach, Ponce &amp; Sapiro (JMLR 2010): each batch of rows is coded by <see cref="FistaEncoder"/>
/// (warm-started from the codes the same rows had in the previous pass), its statistics are added to the running sums
/// <c>A = Σ HᵀH</c>, <c>B = Σ HᵀX</c>, and the atoms take block coordinate descent steps on them (their Algorithm 2): each atom in turn
/// moves to the exact minimiser of the surrogate objective over it within the unit ball, <c>d_j ← Π(d_j + (B_j − (A D)_j)/A_jj)</c>,
/// so no update raises the surrogate. An atom no code has used is restarted from a random row of the data.
/// </summary>
public static class DictionaryLearning
{
    /// <summary>Unit-norm atoms copied from random rows of <paramref name="data"/>, distinct while there are enough rows (Gaussian where a row is zero).</summary>
    public static float[] InitialAtoms(ReadOnlySpan<float> data, int features, int atoms, RandomStream stream)
    {
        int n = data.Length / features;
        if (n == 0) throw new ArgumentException("The data has no rows to start the dictionary from.", nameof(data));
        var dictionary = new float[(long)atoms * features];
        var order = DeterministicShuffle.EpochPermutation(n, 0, stream);
        for (int a = 0; a < atoms; a++)
            SetAtom(dictionary.AsSpan(a * features, features), data.Slice(order[a % n] * features, features), stream.Derive("gaussian-atom", a));
        return dictionary;
    }

    /// <summary>Learns a dictionary for <paramref name="data"/> (rows of <paramref name="features"/> values) from <paramref name="initial"/> atoms (or <see cref="InitialAtoms"/>).</summary>
    /// <param name="backend">Where the codes and statistics are computed.</param>
    /// <param name="data">Row-major rows (patches).</param>
    /// <param name="features">Values per row.</param>
    /// <param name="options">Atoms, passes, batch, sweeps, the encoder and the seed.</param>
    /// <param name="initial">Starting atoms [atoms, features] (not modified), or null for random rows of the data.</param>
    /// <param name="progress">Called after each pass.</param>
    /// <returns>The atoms and the report of each pass.</returns>
    public static (float[] Dictionary, IReadOnlyList<DictionaryEpoch> Epochs) Learn(IBackend backend, ReadOnlySpan<float> data, int features,
        DictionaryLearningOptions options, float[]? initial = null, Action<DictionaryEpoch>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (features < 1 || data.Length % features != 0) throw new ArgumentException($"{data.Length} values are not whole rows of {features}.", nameof(data));
        int n = data.Length / features, k = options.Atoms;
        var root = RandomStream.Root(options.Seed).Derive("dictionary-learning");
        var dictionary = initial is null ? InitialAtoms(data, features, k, root.Derive("initial-atoms")) : (float[])initial.Clone();
        if (dictionary.Length != (long)k * features)
            throw new ArgumentException($"The initial dictionary has {dictionary.Length} values, not {k} atoms x {features}.", nameof(initial));
        var atoms = backend.Allocate(k, features);
        var workspace = new Workspace(backend);
        var codes = new float[(long)n * k];
        var epochs = new List<DictionaryEpoch>();
        var gram = new double[k * k];
        var correlation = new double[k * features];
        var batchGram = new double[k * k];
        var batchCorrelation = new double[k * features];
        int batch = Math.Min(options.BatchRows, Math.Max(n, 1));
        var rows = new float[batch * features];
        var warm = new float[batch * k];
        var clock = Stopwatch.StartNew();
        int update = 0;
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            var order = DeterministicShuffle.EpochPermutation(n, epoch, root.Derive("order"));
            double objective = 0, nonZeros = 0;
            int most = 0, restarted = 0;
            for (int start = 0; start < n; start += batch)
            {
                int count = Math.Min(batch, n - start);
                for (int r = 0; r < count; r++)
                {
                    data.Slice(order[start + r] * features, features).CopyTo(rows.AsSpan(r * features, features));
                    codes.AsSpan(order[start + r] * k, k).CopyTo(warm.AsSpan(r * k, k));
                }
                var x = rows.AsSpan(0, count * features);
                backend.Upload(dictionary, atoms);
                var result = FistaEncoder.Encode(backend, x, features, atoms, options.Encoder, epoch == 0 ? default : warm.AsSpan(0, count * k), workspace);
                for (int r = 0; r < count; r++) result.Codes.AsSpan(r * k, k).CopyTo(codes.AsSpan(order[start + r] * k, k));
                objective += result.MeanObjective * count;
                nonZeros += result.MeanNonZeros * count;
                most = Math.Max(most, result.Iterations);
                Statistics(backend, x, features, result.Codes, k, batchGram, batchCorrelation, workspace);
                for (int i = 0; i < gram.Length; i++) gram[i] += batchGram[i];
                for (int i = 0; i < correlation.Length; i++) correlation[i] += batchCorrelation[i];
                restarted += UpdateAtoms(dictionary, features, k, gram, correlation, options.Sweeps, data, root.Derive("restarted-atoms", update++));
            }
            var report = new DictionaryEpoch(epoch, n == 0 ? 0 : objective / n, n == 0 ? 0 : nonZeros / n, most, restarted, clock.Elapsed.TotalSeconds);
            epochs.Add(report);
            progress?.Invoke(report);
        }
        return (dictionary, epochs);
    }

    /// <summary><c>A = HᵀH</c> [atoms, atoms] and <c>B = HᵀX</c> [atoms, features], summed in double over blocks of backend GEMMs.</summary>
    /// <param name="backend">Where the GEMMs run.</param>
    /// <param name="data">The rows, [n, features].</param>
    /// <param name="features">Values per row.</param>
    /// <param name="codes">Their codes, [n, atoms].</param>
    /// <param name="atoms">Atoms per code.</param>
    /// <param name="gram">Receives A.</param>
    /// <param name="correlation">Receives B.</param>
    /// <param name="workspace">Scratch tensors kept between calls, or null for fresh ones.</param>
    public static void Statistics(IBackend backend, ReadOnlySpan<float> data, int features, ReadOnlySpan<float> codes, int atoms, double[] gram, double[] correlation,
        Workspace? workspace = null)
    {
        Array.Clear(gram);
        Array.Clear(correlation);
        int n = data.Length / features;
        if (n == 0) return;
        int block = Math.Min(4096, n);
        var ws = workspace ?? new Workspace(backend);
        var h = ws.Get("statistics-codes", block, atoms);
        var x = ws.Get("statistics-data", block, features);
        var a = ws.Get("statistics-gram", atoms, atoms);
        var b = ws.Get("statistics-correlation", atoms, features);
        var hostA = new float[atoms * atoms];
        var hostB = new float[atoms * features];
        for (int start = 0; start < n; start += block)
        {
            int rows = Math.Min(block, n - start);
            var hs = h.SliceRows(0, rows);
            var xs = x.SliceRows(0, rows);
            backend.Upload(codes.Slice(start * atoms, rows * atoms), hs);
            backend.Upload(data.Slice(start * features, rows * features), xs);
            backend.Gemm(Transpose.Transposed, Transpose.None, 1f, hs, hs, 0f, a);
            backend.Gemm(Transpose.Transposed, Transpose.None, 1f, hs, xs, 0f, b);
            backend.Download(a, hostA);
            backend.Download(b, hostB);
            for (int i = 0; i < hostA.Length; i++) gram[i] += hostA[i];
            for (int i = 0; i < hostB.Length; i++) correlation[i] += hostB[i];
        }
    }

    /// <summary>
    /// Block coordinate descent on the atoms given <c>A = HᵀH</c> and <c>B = HᵀX</c>; returns how many unused atoms were restarted.
    /// The objective's dependence on D is <c>½ tr(D ᵀA D) − tr(Dᵀ B)</c> (plus terms without D), minimised over each atom in turn.
    /// </summary>
    public static int UpdateAtoms(float[] dictionary, int features, int atoms, ReadOnlySpan<double> gram, ReadOnlySpan<double> correlation, int sweeps,
        ReadOnlySpan<float> data, RandomStream restarts)
    {
        var d = new double[atoms * features];
        for (int i = 0; i < d.Length; i++) d[i] = dictionary[i];
        // AD[j] = sum_k A[j, k] d_k, kept current as atoms change.
        var ad = new double[atoms * features];
        for (int j = 0; j < atoms; j++)
            for (int kk = 0; kk < atoms; kk++)
            {
                double ajk = gram[j * atoms + kk];
                if (ajk == 0) continue;
                for (int f = 0; f < features; f++) ad[j * features + f] += ajk * d[kk * features + f];
            }
        int restarted = 0;
        int n = data.Length / features;
        var u = new double[features];
        var change = new double[features];
        for (int sweep = 0; sweep < sweeps; sweep++)
        {
            for (int j = 0; j < atoms; j++)
            {
                double ajj = gram[j * atoms + j];
                var dj = d.AsSpan(j * features, features);
                if (ajj < 1e-10)
                {
                    if (sweep > 0) continue;
                    // No code uses the atom: start it again from a random row, where it may be of use next time.
                    var fresh = new float[features];
                    int row = (int)((Philox4x32.Word(restarts, (ulong)j) * (ulong)n) >> 32);
                    SetAtom(fresh, data.Slice(row * features, features), restarts.Derive("gaussian-atom", j));
                    for (int f = 0; f < features; f++) change[f] = fresh[f] - dj[f];
                    restarted++;
                }
                else
                {
                    double norm = 0;
                    for (int f = 0; f < features; f++)
                    {
                        u[f] = dj[f] + (correlation[j * features + f] - ad[j * features + f]) / ajj;
                        norm += u[f] * u[f];
                    }
                    double scale = 1 / Math.Max(1, Math.Sqrt(norm));
                    for (int f = 0; f < features; f++) change[f] = u[f] * scale - dj[f];
                }
                for (int f = 0; f < features; f++) dj[f] += change[f];
                for (int i = 0; i < atoms; i++)
                {
                    double aij = gram[i * atoms + j];
                    if (aij == 0) continue;
                    var adi = ad.AsSpan(i * features, features);
                    for (int f = 0; f < features; f++) adi[f] += aij * change[f];
                }
            }
        }
        for (int i = 0; i < d.Length; i++) dictionary[i] = (float)d[i];
        return restarted;
    }

    private static void SetAtom(Span<float> atom, ReadOnlySpan<float> row, RandomStream gaussian)
    {
        double squares = 0;
        foreach (float v in row) squares += (double)v * v;
        if (squares < 1e-16)
        {
            for (int f = 0; f < atom.Length; f++) atom[f] = Philox4x32.Gaussian(gaussian, (ulong)f);
            squares = 0;
            foreach (float v in atom) squares += (double)v * v;
            row = atom;
        }
        double inverse = 1 / Math.Sqrt(squares);
        for (int f = 0; f < atom.Length; f++) atom[f] = (float)(row[f] * inverse);
    }
}
