namespace Shinso.OpenCL;

/// <summary>
/// One compiled shape of the tiled SGEMM kernels (kernels/gemm.cl): a work-group computes a
/// <see cref="TileM"/> x <see cref="TileN"/> block of C, each item a <see cref="WorkM"/> x <see cref="WorkN"/> register block.
/// A <see cref="Vector"/> shape runs <c>sgemm_vec</c>, which moves A, B and C as float4 and double-buffers its
/// local tiles; the others run the scalar <c>sgemm</c>.
/// </summary>
internal readonly record struct GemmTile(int TileM, int TileN, int TileK, int WorkM, int WorkN, bool Vector = false)
{
    /// <summary>
    /// 128 x 128 blocks, 8 x 8 per item, 32-deep k-slices: the large-matrix scalar shape, no longer chosen by <see cref="For"/>
    /// but kept as the baseline <see cref="LargeVector"/> is compared with. On an H100 at 4096^3 this ran at 28.8 TFLOP/s against
    /// 27.6 with 16-deep and 25.7 with 8-deep slices; 64-wide tiles, 4 x 8 items or 16 x 8 items were slower.
    /// </summary>
    public static readonly GemmTile Large = new(128, 128, 32, 8, 8);

    /// <summary>
    /// The large block through <c>sgemm_vec</c>: 16-deep slices, because two buffers of 32-deep slices would need
    /// 64 KB of local memory and NVIDIA devices offer 48 KB.
    /// </summary>
    public static readonly GemmTile LargeVector = new(128, 128, 16, 8, 8, Vector: true);

    /// <summary>64 x 64 blocks, 4 x 4 per item.</summary>
    public static readonly GemmTile Medium = new(64, 64, 16, 4, 4);

    /// <summary>The medium block through <c>sgemm_vec</c>: one float4 sub-block per item.</summary>
    public static readonly GemmTile MediumVector = new(64, 64, 16, 4, 4, Vector: true);

    /// <summary>
    /// 32 x 128 blocks, 4 x 8 per item, through <c>sgemm_vec</c>: for a C of few rows and many columns, such as a
    /// convolution's output (6 to 64 channels by every pixel of the batch), where a 128-row block would be mostly padding.
    /// </summary>
    public static readonly GemmTile NarrowVector = new(32, 128, 16, 4, 8, Vector: true);

    /// <summary>
    /// 32 x 32 blocks, 2 x 2 per item, through the scalar <c>sgemm</c>: no longer chosen by <see cref="For"/>, kept as the
    /// baseline <see cref="SmallVector"/> is compared with.
    /// </summary>
    public static readonly GemmTile Small = new(32, 32, 16, 2, 2);

    /// <summary>
    /// 32 x 32 blocks, 4 x 4 per item (64 items), through <c>sgemm_vec</c>: enough work-groups to fill a GPU on
    /// minibatch-sized products, and the tile of a split product such as a convolution's weight gradient.
    /// On POCL it trains LeNet-5 about twice as fast as <see cref="Small"/>, whose 2 x 2 items each read two floats
    /// from local memory per two multiply-adds.
    /// </summary>
    public static readonly GemmTile SmallVector = new(32, 32, 16, 4, 4, Vector: true);

    /// <summary>
    /// Tuning knob: <c>SHINSO_OPENCL_GEMM_TILE=TILE_M,TILE_N,TILE_K,WORK_M,WORK_N[,vector]</c> forces one shape for every GEMM.
    /// </summary>
    public const string EnvironmentVariable = "SHINSO_OPENCL_GEMM_TILE";

    /// <summary>Reads a tile shape written as <c>128,128,16,8,8</c> or <c>128,128,16,8,8,vector</c>; null for null or empty text.</summary>
    /// <exception cref="ArgumentException">The text is not five positive integers that divide into whole work-groups, optionally
    /// followed by <c>vector</c> or <c>scalar</c>, or a vector shape's float4 loads do not divide evenly among its items.</exception>
    public static GemmTile? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        string expected = $"{EnvironmentVariable}='{text}': expected TILE_M,TILE_N,TILE_K,WORK_M,WORK_N, five positive integers, then optionally 'vector' or 'scalar'.";
        var parts = text.Split(',');
        if (parts.Length is not (5 or 6)) throw new ArgumentException(expected);
        var values = new int[5];
        for (int i = 0; i < 5; i++)
            if (!int.TryParse(parts[i].Trim(), out values[i]) || values[i] <= 0) throw new ArgumentException(expected);
        bool vector = false;
        if (parts.Length == 6)
        {
            string kind = parts[5].Trim();
            if (kind.Equals("vector", StringComparison.OrdinalIgnoreCase)) vector = true;
            else if (!kind.Equals("scalar", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException(expected);
        }
        var tile = new GemmTile(values[0], values[1], values[2], values[3], values[4], vector);
        if (tile.TileM % tile.WorkM != 0 || tile.TileN % tile.WorkN != 0 || tile.GroupSize > 1024)
            throw new ArgumentException($"{EnvironmentVariable}='{text}': WORK_M and WORK_N must divide TILE_M and TILE_N into at most 1024 items.");
        if (vector && (tile.WorkM % 4 != 0 || tile.WorkN % 4 != 0 || tile.TileK % 4 != 0
                       || tile.TileM * tile.TileK / 4 % tile.GroupSize != 0 || tile.TileN * tile.TileK / 4 % tile.GroupSize != 0))
            throw new ArgumentException($"{EnvironmentVariable}='{text}': a vector shape needs WORK_M, WORK_N and TILE_K divisible by 4, and "
                                        + "TILE_M*TILE_K/4 and TILE_N*TILE_K/4 float4 loads divisible by the group's item count.");
        return tile;
    }

    public int GroupM => TileM / WorkM;

    public int GroupN => TileN / WorkN;

    public int GroupSize => GroupM * GroupN;

    /// <summary>Local memory one work-group of the kernel that runs needs, in bytes.</summary>
    public long LocalMemoryBytes => Vector ? 2L * TileK * (TileM + TileN) * sizeof(float) : (long)TileK * (TileM + TileN + 2) * sizeof(float);

    public string CompilerOptions =>
        $"-D TILE_M={TileM} -D TILE_N={TileN} -D TILE_K={TileK} -D WORK_M={WorkM} -D WORK_N={WorkN}" + (Vector ? " -D VECTOR=1" : "");

    /// <summary>
    /// The largest tile that still gives every compute unit about two work-groups, as float4 traffic where it has a
    /// vector twin; a C of at most 32 rows takes the narrow tile, which pads it to 32 rows rather than 128.
    /// </summary>
    public static GemmTile For(int m, int n, uint computeUnits)
    {
        long want = 2L * Math.Max(1u, computeUnits);
        if (m <= NarrowVector.TileM && Blocks(m, n, NarrowVector) >= want) return NarrowVector;
        if (Blocks(m, n, Large) >= want) return LargeVector;
        if (Blocks(m, n, Medium) >= want) return MediumVector;
        return SmallVector;
    }

    /// <summary>Split K only from this length on: shorter products are cheap whatever their shape.</summary>
    public const int SplitKMinimum = 2048;

    /// <summary>Each k-range of a split product is at least this long, so a part's work outweighs summing it.</summary>
    public const int SplitKMinimumChunk = 256;

    /// <summary>
    /// The k-range each work-group takes: <paramref name="k"/> itself (no split) unless C's blocks would leave most
    /// compute units idle and K is long, as in a convolution's weight gradient (LeNet's first layer: a 6 x 25 C over
    /// K = 78,400, one block). Then K is cut into ranges, a multiple of <see cref="TileK"/> long, so that the blocks
    /// times the ranges give every compute unit about two work-groups.
    /// </summary>
    public static int SplitKChunk(int m, int n, int k, GemmTile tile, uint computeUnits)
    {
        long blocks = Blocks(m, n, tile), want = 2L * Math.Max(1u, computeUnits);
        if (k < SplitKMinimum || blocks * 2 > want) return k;
        long parts = Math.Min((want + blocks - 1) / blocks, k / SplitKMinimumChunk);
        if (parts < 2) return k;
        long chunk = (k + parts - 1) / parts;
        return (int)((chunk + tile.TileK - 1) / tile.TileK * tile.TileK);
    }

    /// <summary>
    /// Whether <c>sgemm_vec</c> may read an operand as aligned float4: its element offset and leading dimension are
    /// multiples of 4, so every float4 is 16-byte aligned (buffers themselves are aligned far beyond that).
    /// Otherwise it reads through vload4.
    /// </summary>
    public static bool AllowsFloat4(int offset, int leadingDimension) => ((offset | leadingDimension) & 3) == 0;

    private static long Blocks(int m, int n, GemmTile t) => (long)((m + t.TileM - 1) / t.TileM) * ((n + t.TileN - 1) / t.TileN);
}
