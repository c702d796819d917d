namespace Shinso.OpenCL;

/// <summary>
/// One compiled shape of the tiled SGEMM kernel (kernels/gemm.cl): a work-group computes a
/// <see cref="TileM"/> x <see cref="TileN"/> block of C, each item a <see cref="WorkM"/> x <see cref="WorkN"/> register block.
/// </summary>
internal readonly record struct GemmTile(int TileM, int TileN, int TileK, int WorkM, int WorkN)
{
    /// <summary>128 x 128 blocks, 8 x 8 per item: the large-matrix shape.</summary>
    public static readonly GemmTile Large = new(128, 128, 16, 8, 8);

    /// <summary>64 x 64 blocks, 4 x 4 per item.</summary>
    public static readonly GemmTile Medium = new(64, 64, 16, 4, 4);

    /// <summary>32 x 32 blocks, 2 x 2 per item: enough work-groups to fill a GPU on minibatch-sized products.</summary>
    public static readonly GemmTile Small = new(32, 32, 16, 2, 2);

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
