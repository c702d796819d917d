namespace Shinso.OpenCL;

/// <summary>
/// One compiled shape of the tiled SGEMM kernel (kernels/gemm.cl): a work-group computes a
/// <see cref="TileM"/> x <see cref="TileN"/> block of C, each item a <see cref="WorkM"/> x <see cref="WorkN"/> register block.
/// </summary>
internal readonly record struct GemmTile(int TileM, int TileN, int TileK, int WorkM, int WorkN)
{
    /// <summary>
    /// 128 x 128 blocks, 8 x 8 per item, 32-deep k-slices: the large-matrix shape. On an H100 at 4096^3 this ran at
    /// 28.8 TFLOP/s against 27.6 with 16-deep and 25.7 with 8-deep slices; 64-wide tiles, 4 x 8 items or 16 x 8 items were slower.
    /// </summary>
    public static readonly GemmTile Large = new(128, 128, 32, 8, 8);

    /// <summary>64 x 64 blocks, 4 x 4 per item.</summary>
    public static readonly GemmTile Medium = new(64, 64, 16, 4, 4);

    /// <summary>32 x 32 blocks, 2 x 2 per item: enough work-groups to fill a GPU on minibatch-sized products.</summary>
    public static readonly GemmTile Small = new(32, 32, 16, 2, 2);

    /// <summary>Tuning knob: <c>SHINSO_OPENCL_GEMM_TILE=TILE_M,TILE_N,TILE_K,WORK_M,WORK_N</c> forces one shape for every GEMM.</summary>
    public const string EnvironmentVariable = "SHINSO_OPENCL_GEMM_TILE";

    /// <summary>Reads a tile shape written as <c>128,128,16,8,8</c>; null for null or empty text.</summary>
    /// <exception cref="ArgumentException">The text is not five positive integers that divide into whole work-groups.</exception>
    public static GemmTile? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var parts = text.Split(',');
        var values = new int[5];
        if (parts.Length != 5 || parts.Select((p, i) => int.TryParse(p.Trim(), out values[i]) && values[i] > 0).Any(ok => !ok))
            throw new ArgumentException($"{EnvironmentVariable}='{text}': expected TILE_M,TILE_N,TILE_K,WORK_M,WORK_N, five positive integers.");
        var tile = new GemmTile(values[0], values[1], values[2], values[3], values[4]);
        if (tile.TileM % tile.WorkM != 0 || tile.TileN % tile.WorkN != 0 || tile.GroupM * tile.GroupN > 1024)
            throw new ArgumentException($"{EnvironmentVariable}='{text}': WORK_M and WORK_N must divide TILE_M and TILE_N into at most 1024 items.");
        return tile;
    }

    public int GroupM => TileM / WorkM;

    public int GroupN => TileN / WorkN;

    public string CompilerOptions => $"-D TILE_M={TileM} -D TILE_N={TileN} -D TILE_K={TileK} -D WORK_M={WorkM} -D WORK_N={WorkN}";

    /// <summary>The largest tile that still gives every compute unit about two work-groups.</summary>
    public static GemmTile For(int m, int n, uint computeUnits)
    {
        long want = 2L * Math.Max(1u, computeUnits);
        if (Blocks(m, n, Large) >= want) return Large;
        if (Blocks(m, n, Medium) >= want) return Medium;
        return Small;
    }

    private static long Blocks(int m, int n, GemmTile t) => (long)((m + t.TileM - 1) / t.TileM) * ((n + t.TileN - 1) / t.TileN);
}
