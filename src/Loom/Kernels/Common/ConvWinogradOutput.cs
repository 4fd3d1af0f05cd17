using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// The output side of every Winograd tile size: Y = Aᵀ·M·A per tile (<see cref="IWinogradTiles.Untile8"/>), a tile row's
/// m output rows gathered in scratch, then the bias/residual/activation epilogue as they are stored. Bias, residual and
/// Relu (or none) go with the store: rows are short (13–56 outputs), and ApplyRow's setup per row cost as much as the rows
/// themselves (2% of ResNet-50). Same arithmetic as ApplyRow: (y + bias) + residual, then the max.
/// </summary>
internal static unsafe class ConvWinogradOutput
{
    /// <summary>
    /// Y rows of output channels [k0, k1) for tiles [t0, t1): M_ξ[k, t] at m + ξ·<paramref name="mStride"/> + k·<paramref name="ldm"/> + t − t0,
    /// then y = act(y + bias + residual) while the m rows of a tile row are in <paramref name="rowsTmp"/> (m rows of
    /// <see cref="ConvWinogradLayout.RowScratch"/>), so a residual that is also Y is read before it is overwritten.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows<T>(in ConvWinogradLayout l, float* m, long mStride, int ldm, int k0, int k1, int t0, int t1,
        float* y, float* bias, float* residual, FusedActivation act, float* rowsTmp) where T : struct, IWinogradTiles
    {
        int tile = T.Tile;
        float* work = stackalloc float[T.UntileWork];
        bool vector = Avx2.IsSupported, epilogue = bias != null || residual != null || act.Kind != ActivationKind.None;
        bool relu = act.Kind == ActivationKind.Relu, inline = vector && (act.Kind is ActivationKind.None or ActivationKind.Relu);
        int tilesW = l.TilesW, oh = l.OH, ow = l.OW, tmpW = l.RowScratch;
        long outSize = (long)oh * ow;
        for (int k = k0; k < k1; k++)
        {
            float* mk = m + (long)k * ldm;
            float b = bias == null ? 0 : bias[k];
            for (int ty = t0 / tilesW; ty * tilesW < t1; ty++)
            {
                int rowT = ty * tilesW, tx0 = Math.Max(0, t0 - rowT), tx1 = Math.Min(tilesW, t1 - rowT);
                for (int tx = tx0; tx < tx1; tx += 8)
                {
                    float* src = mk + rowT + tx - t0, dst = rowsTmp + tile * (tx - tx0);
                    if (vector) T.Untile8(src, mStride, dst, tmpW, work);
                    else for (int q = 0; q < Math.Min(8, tx1 - tx); q++) T.UntileScalar(src + q, mStride, dst + tile * q, tmpW);
                }
                int ox0 = tile * tx0, len = Math.Min(ow, tile * tx1) - ox0;
                for (int i = 0; i < tile && tile * ty + i < oh; i++)
                {
                    long at = k * outSize + (long)(tile * ty + i) * ow + ox0;
                    float* row = rowsTmp + i * tmpW;
                    if (inline) Store(row, y + at, len, b, residual == null ? null : residual + at, relu);
                    else
                    {
                        if (epilogue) act.ApplyRow(row, len, b, residual == null ? null : residual + at);
                        new ReadOnlySpan<float>(row, len).CopyTo(new Span<float>(y + at, len));
                    }
                }
            }
        }
    }

    /// <summary>dst[j] = relu?(src[j] + bias + residual[j]); <paramref name="residual"/> may be null or dst.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* src, float* dst, int n, float bias, float* residual, bool relu)
    {
        var vb = Vector256.Create(bias);
        int j = 0;
        for (; j + 8 <= n; j += 8)
        {
            var v = Vector256.Load(src + j) + vb;
            if (residual != null) v += Vector256.Load(residual + j);
            Vector256.Store(relu ? Vector256.Max(v, Vector256<float>.Zero) : v, dst + j);
        }
        for (; j < n; j++)
        {
            float v = src[j] + bias;
            if (residual != null) v += residual[j];
            dst[j] = relu ? Math.Max(v, 0) : v;
        }
    }
}
