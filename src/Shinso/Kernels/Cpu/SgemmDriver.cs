using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Shinso.Operations;

namespace Shinso.Kernels.Cpu;

/// <summary>A register-blocked SGEMM micro-kernel and the cache blocking that suits it.</summary>
internal unsafe interface ISgemmMicroKernel
{
    /// <summary>Rows of the C tile (and of a packed A panel).</summary>
    static abstract int MR { get; }
    /// <summary>Columns of the C tile (and of a packed B panel).</summary>
    static abstract int NR { get; }
    /// <summary>Largest K block; the K range is split into equal blocks no longer than this.</summary>
    static abstract int KcMax { get; }
    /// <summary>Largest M block packed at once (a multiple of MR).</summary>
    static abstract int McMax { get; }
    /// <summary>Largest N block packed (or read from column panels) at once (a multiple of NR).</summary>
    static abstract int NcMax { get; }

    /// <summary>
    /// Computes acc = sum over kc of (A panel column) x (B panel row), then writes the MR x NR tile at
    /// <paramref name="c"/>: beta == 0 gives C = alpha*acc without reading C, beta == 1 gives
    /// C = fma(acc, alpha, C), otherwise C = fma(acc, alpha, beta*C). Row p of the B panel starts
    /// <paramref name="bStride"/> floats after row p - 1 (NR for a packed panel, wider for one read in place).
    /// </summary>
    static abstract void Run(int kc, float* a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta);

    /// <summary>Like <see cref="Run"/> for a tile whose panel holds only <paramref name="rows"/> &lt; MR real
    /// rows: computes at least that many rows (and at most MR) into <paramref name="c"/>, skipping work on padding where it can.</summary>
    static abstract void RunRows(int rows, int kc, float* a, float* b, nint bStride, float* c, nint ldc, float alpha, float beta);

    /// <summary>
    /// For an edge tile whose B panel holds at most NR/2 real columns: writes acc (alpha 1, beta 0) for at least
    /// <paramref name="rows"/> rows and the first NR/2 columns into <paramref name="c"/> (row stride <paramref name="ldc"/>),
    /// each element summed exactly as <see cref="Run"/> sums it; a kernel without a narrower form computes the full width.
    /// </summary>
    static abstract void RunNarrow(int rows, int kc, float* a, float* b, nint bStride, float* c, nint ldc);
}

/// <summary>One GEMM call's operands, as raw pointers pinned by the caller for the call's duration.</summary>
internal unsafe struct SgemmProblem
{
    public Transpose TransA;
    public Transpose TransB;
    public int M;
    public int N;
    public int K;
    public float Alpha;
    public float Beta;
    public float* A;
    public float* B;
    public float* C;
    public nint Lda;
    public nint Ldb;
    public nint Ldc;
    /// <summary>B is in <see cref="ColumnPanels"/> (Ldb unused, TransB None): <see cref="SgemmSmallM"/> and the blocked driver read it in place.</summary>
    public bool BInColumnPanels;
    /// <summary>A row vector <see cref="SgemmSmallM"/> adds to every row of C after the product (null: none); only with <see cref="BInColumnPanels"/>.</summary>
    public float* Bias;
}

/// <summary>
/// Per-thread packing buffers: 64-byte aligned slices of pinned arrays, grown on demand and then
/// reused by every later call on the same thread, so steady-state calls allocate nothing.
/// </summary>
internal sealed unsafe class SgemmPackBuffers
{
    [ThreadStatic] private static SgemmPackBuffers? t_current;

    private readonly AlignedBuffer _a = new();
    private readonly AlignedBuffer _b = new();
    private readonly AlignedBuffer _tile = new();

    public static SgemmPackBuffers ForCurrentThread => t_current ??= new SgemmPackBuffers();

    public float* A(int floats) => _a.Get(floats);
    public float* B(int floats) => _b.Get(floats);
    public float* Tile(int floats) => _tile.Get(floats);

    private sealed class AlignedBuffer
    {
        private const int AlignFloats = 16;
        private float[]? _array;
        private float* _aligned;
        private int _capacity;

        public float* Get(int floats)
        {
            if (floats > _capacity)
            {
                // The pinned object heap never moves arrays, so the aligned pointer stays valid as long as
                // this object holds the array.
                int capacity = Math.Max(floats, _capacity + _capacity / 2);
                _array = GC.AllocateUninitializedArray<float>(capacity + AlignFloats, pinned: true);
                nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
                _aligned = (float*)((start + 63) & ~(nint)63);
                _capacity = capacity;
            }
            return _aligned;
        }
    }
}

/// <summary>
/// The BLIS-style blocked loop nest around a micro-kernel: N blocks, balanced K blocks (packing op(B), or reading a B
/// in column panels where it is), M blocks (packing op(A)), then NR x MR tiles. Only M and N are ever split between threads, and every
/// C element sees the same K blocks in the same order, so results do not depend on the thread count.
/// </summary>
internal static unsafe class SgemmDriver
{
    // 1 MB, the per-core L2 of the CPUs measured (Skylake-SP, Zen 4).
    private const long PanelAtATimeMinFloats = 1 << 18;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunBlocked<TKernel>(in SgemmProblem g, int m0, int m1, int n0, int n1)
        where TKernel : struct, ISgemmMicroKernel
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int k = g.K;
        int kcStep = BalancedStep(k, TKernel.KcMax, 1);
        int mcStep = BalancedStep(m1 - m0, TKernel.McMax, mr);
        int ncStep = BalancedStep(n1 - n0, TKernel.NcMax, nr);

        // A single M block uses each panel of B in one pass of tiles, so the panel can be packed just before them while
        // the next panel's lines are fetched during those tiles: a B last touched long ago streams in from memory
        // behind the arithmetic instead of stalling a packing of the whole block before it. Only for a B larger than a
        // core's L2, which cannot still be there: a B just written (a convolution's columns, kept to half the L2) packs
        // faster a block at a time, and pays for prefetches it does not need (cifar-18pct's batch of 100: 7 % slower).
        bool panelAtATime = !g.BInColumnPanels && m1 - m0 <= mcStep && (long)g.K * g.N >= PanelAtATimeMinFloats;
        var buffers = SgemmPackBuffers.ForCurrentThread;
        float* packedA = buffers.A(RoundUp(Math.Min(mcStep, m1 - m0), mr) * kcStep);
        // A tile of a B in column panels must lie inside one panel.
        Debug.Assert(!g.BInColumnPanels || ColumnPanels.Width % nr == 0);
        float* packedB = g.BInColumnPanels ? null : buffers.B((panelAtATime ? nr : RoundUp(Math.Min(ncStep, n1 - n0), nr)) * kcStep);
        float* edgeTile = buffers.Tile(mr * nr);

        float alpha = g.Alpha;
        nint ldc = g.Ldc;
        nint bStride = g.BInColumnPanels ? ColumnPanels.Width : nr;
        for (int jc = n0; jc < n1; jc += ncStep)
        {
            int nc = Math.Min(ncStep, n1 - jc);
            for (int pc = 0; pc < k; pc += kcStep)
            {
                int kc = Math.Min(kcStep, k - pc);
                // Later K blocks accumulate onto what the first one wrote.
                float beta = pc == 0 ? g.Beta : 1f;
                // A B in column panels is read where it is: its K block of a panel is already kc contiguous rows.
                if (!g.BInColumnPanels && !panelAtATime) SgemmPack.PackB(g.TransB, g.B, g.Ldb, pc, kc, jc, nc, packedB, nr);
                for (int ic = m0; ic < m1; ic += mcStep)
                {
                    int mc = Math.Min(mcStep, m1 - ic);
                    SgemmPack.PackA(g.TransA, g.A, g.Lda, ic, mc, pc, kc, packedA, mr);
                    int tiles = (mc + mr - 1) / mr;
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int cols = Math.Min(nr, nc - jr);
                        // The panel packed next: the next one of this K block, else the first of the next K block, else
                        // the first of the next N block.
                        int nextP = 0, nextJ = n1, nextKc = 0, nextCols = 0;
                        if (panelAtATime)
                        {
                            SgemmPack.PackB(g.TransB, g.B, g.Ldb, pc, kc, jc + jr, cols, packedB, nr);
                            (nextP, nextJ, nextKc) = (pc, jc + jr + nr, kc);
                            if (jr + nr >= nc) (nextJ, nextP, nextKc) = (jc, pc + kcStep, Math.Min(kcStep, k - pc - kcStep));
                            if (nextP >= k) (nextJ, nextP, nextKc) = (jc + ncStep, 0, Math.Min(kcStep, k));
                            nextCols = Math.Min(nr, n1 - nextJ);
                        }
                        bool prefetchB = nextJ < n1;
                        float* bPanel = g.BInColumnPanels ? ColumnPanelTile(g.B, k, pc, jc + jr) : panelAtATime ? packedB : packedB + (nint)jr * kc;
                        float* cColumn = g.C + jc + jr;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int rows = Math.Min(mr, mc - ir);
                            float* cTile = cColumn + (ic + ir) * ldc;
                            if (prefetchB) SgemmPack.PrefetchB(g.TransB, g.B, g.Ldb, nextP, nextKc, nextJ, nextCols, ir / mr, tiles);
                            if (!g.BInColumnPanels && ir + mr < mc) PrefetchTile(cTile + mr * ldc, ldc, Math.Min(mr, mc - ir - mr), cols);
                            float* aPanel = packedA + (nint)ir * kc;
                            if (rows == mr && cols == nr)
                            {
                                TKernel.Run(kc, aPanel, bPanel, bStride, cTile, ldc, alpha, beta);
                            }
                            else
                            {
                                // alpha=1, beta=0 stores acc exactly; WriteEdge then applies the same
                                // operations as the kernel's own store, so edge tiles match full ones bit for bit.
                                // A last panel of at most half its width (N = 10, or 196 = 6 x 32 + 4) runs a
                                // half-width kernel rather than multiplying the panel's zero padding.
                                if (cols <= nr / 2) TKernel.RunNarrow(rows, kc, aPanel, bPanel, bStride, edgeTile, nr);
                                else TKernel.RunRows(rows, kc, aPanel, bPanel, bStride, edgeTile, nr, 1f, 0f);
                                WriteEdge(edgeTile, nr, cTile, ldc, rows, cols, alpha, beta);
                            }
                        }
                    }
                }
            }
        }
    }

    // The next C tile's lines, fetched while this tile computes: a C last touched long ago would otherwise stall the
    // tile's stores. Only where B is packed (the products measured with it); a column-panel B's path is left as it was.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchTile(float* c, nint ldc, int rows, int cols)
    {
        if (!Sse.IsSupported) return;
        for (int i = 0; i < rows; i++)
        {
            nint first = (nint)(c + i * ldc) & ~(nint)63, last = (nint)(c + i * ldc + cols - 1);
            for (nint line = first; line <= last; line += 64) Sse.Prefetch0((void*)line);
        }
    }

    /// <summary>Where column <paramref name="column"/> (a multiple of NR) of a B in column panels starts at row <paramref name="row"/>.</summary>
    private static float* ColumnPanelTile(float* panels, int k, int row, int column) =>
        panels + (nint)(column / ColumnPanels.Width) * k * ColumnPanels.Width + (nint)row * ColumnPanels.Width + column % ColumnPanels.Width;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void WriteEdge(float* tile, int tileStride, float* c, nint ldc, int rows, int cols, float alpha, float beta)
    {
        for (int i = 0; i < rows; i++)
        {
            float* t = tile + i * tileStride;
            float* cr = c + i * ldc;
            if (beta == 0f)
            {
                for (int j = 0; j < cols; j++)
                    cr[j] = t[j] * alpha;
            }
            else if (beta == 1f)
            {
                for (int j = 0; j < cols; j++)
                    cr[j] = MathF.FusedMultiplyAdd(t[j], alpha, cr[j]);
            }
            else
            {
                for (int j = 0; j < cols; j++)
                    cr[j] = MathF.FusedMultiplyAdd(t[j], alpha, cr[j] * beta);
            }
        }
    }

    /// <summary>Splits <paramref name="length"/> into the fewest blocks of at most <paramref name="max"/>, of
    /// near-equal size rounded up to <paramref name="multiple"/> (K=784 with max 256 gives 4 x 196, not 3 x 256 + 16).</summary>
    internal static int BalancedStep(int length, int max, int multiple)
    {
        if (length <= 0)
            return multiple;
        int blocks = (length + max - 1) / max;
        int step = (length + blocks - 1) / blocks;
        return RoundUp(step, multiple);
    }

    internal static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}

/// <summary>How a GEMM call runs and splits between parts.</summary>
internal enum SgemmSplit
{
    /// <summary>Blocked path (<see cref="SgemmDriver.RunBlocked"/>), parts take row tiles of C.</summary>
    Rows,
    /// <summary>Blocked path (<see cref="SgemmDriver.RunBlocked"/>), parts take column tiles of C.</summary>
    Columns,
    /// <summary><see cref="SgemmSmallM"/>, parts take its column blocks.</summary>
    SmallM,
    /// <summary><see cref="SgemmLongK"/>, parts take its column blocks.</summary>
    LongK,
}

/// <summary>
/// One parallel GEMM call: part i of n computes a contiguous range of row tiles (or column tiles)
/// of C with the blocked driver. Reused per calling thread.
/// </summary>
internal sealed unsafe class SgemmWork : KernelWork
{
    [ThreadStatic] private static SgemmWork? t_instance;

    public SgemmProblem Problem;
    public SimdPath Path;
    public SgemmSplit Split;

    public static SgemmWork ForCurrentThread => t_instance ??= new SgemmWork();

    // AggressiveOptimization here too: with tiered PGO, an instrumented tier of these wrappers (with the
    // loop nest inlined) was measured to halve 2-thread speed for seconds, apparently from both threads
    // bumping shared profile counters.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(int index, int count)
    {
        if (Split == SgemmSplit.LongK)
        {
            var (start, end) = PartRange(Problem.N, SgemmLongK.Columns, index, count);
            if (start < end)
                SgemmLongK.Run(in Problem, start, end);
            return;
        }
        if (Split == SgemmSplit.SmallM)
        {
            var (start, end) = PartRange(Problem.N, SgemmSmallM.Columns, index, count);
            if (start < end)
                SgemmSmallM.Run(in Problem, start, end);
            return;
        }
        switch (Path)
        {
            case SimdPath.Avx512:
                ExecuteWith<SgemmAvx512Kernel>(index, count);
                break;
            case SimdPath.Avx2:
                ExecuteWith<SgemmAvx2Kernel>(index, count);
                break;
            default:
                throw new InvalidOperationException($"SgemmWork has no blocked kernel for path {Path}.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ExecuteWith<TKernel>(int index, int count) where TKernel : struct, ISgemmMicroKernel
    {
        int m = Problem.M, n = Problem.N;
        if (Split == SgemmSplit.Rows)
        {
            var (start, end) = PartRange(m, TKernel.MR, index, count);
            if (start < end)
                SgemmDriver.RunBlocked<TKernel>(in Problem, start, end, 0, n);
        }
        else
        {
            var (start, end) = PartRange(n, TKernel.NR, index, count);
            if (start < end)
                SgemmDriver.RunBlocked<TKernel>(in Problem, 0, m, start, end);
        }
    }

    // Part boundaries fall on tile multiples so no part creates an extra edge tile.
    private static (int Start, int End) PartRange(int length, int tile, int index, int count)
    {
        int tiles = (length + tile - 1) / tile;
        int t0 = (int)((long)tiles * index / count);
        int t1 = (int)((long)tiles * (index + 1) / count);
        return (t0 * tile, Math.Min(t1 * tile, length));
    }
}
