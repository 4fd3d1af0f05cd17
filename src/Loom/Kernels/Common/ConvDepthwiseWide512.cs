using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// <see cref="ConvDepthwiseWide"/> with 16-wide AVX-512 vectors, for the small planes of MobileNet- and
/// ShuffleNet-style depthwise layers (7×7 to 28×28), where the 8-wide kernel spent as long copying as computing:
/// each padded row is written as whole vectors from masked loads (no scalar borders or tails), the wide outputs go
/// back to Y with masked stores, and the epilogue runs once over the whole output plane (contiguous in NCHW) instead
/// of row by row. Output j = oy·Wp + ox still reads buffer[j + ky·LH·Wp + kx·LW]; 64 outputs per block keep four
/// FMA chains going. Same sums in the same order as <see cref="ConvDepthwiseWide"/> (bias, then the taps in order).
/// </summary>
internal static unsafe class ConvDepthwiseWide512
{
    private const int Block = 64;

    public static bool Supports(Conv3D g) =>
        Avx512F.IsSupported && ReferenceEquals(GemmKernelSet.Current, GemmKernelSet.Avx512) && g.SH == 1 && g.SW == 1 && g.KD == 1 && g.ID == 1;

    /// <summary>Planes [p0, p1) of y (channel c = p mod channels): y = act(conv + bias[c] + residual).</summary>
    /// <param name="divisor">Average pooling (weights of 1): each output divided by its window's count (<see cref="PoolDivisor"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* x, float* w, float* bias, float* residual, float* y, int channels, int p0, int p1, Conv3D g, FusedActivation act,
        ChannelTransform input, PoolDivisor divisor = default)
    {
        int hp = g.OH + (g.KH - 1) * g.LH, wp = g.OW + (g.KW - 1) * g.LW, taps = g.KH * g.KW;
        int wideN = g.OH * wp;
        // Slack past the plane: the last block reads up to Block − 1 floats past the last wide output's taps, and the
        // last padded row's final vector is stored whole (up to 15 floats past the plane).
        int planeFloats = hp * wp + Block + (g.KW - 1) * g.LW + 32;
        float* plane = GemmScratch.ForThread.Extra(planeFloats + wideN + Block);
        float* wide = plane + planeFloats;
        new Span<float>(plane + hp * wp, planeFloats - hp * wp).Clear();
        int* offsets = stackalloc int[taps];
        ConvDepthwiseWide.TapOffsets(g, wp, offsets);
        bool afterwards = act.Kind != ActivationKind.None || residual != null;
        for (int p = p0; p < p1; p++)
        {
            int c = p % channels;
            Fill(x + input.Source(p, channels) * g.InputSize, g, plane, hp, wp, input, c);
            float b = bias == null ? 0 : bias[c];
            for (int j = 0; j < wideN; j += Block) Block64(plane + j, offsets, w + (long)c * taps, taps, b, wide + j);
            StoreRows(wide, wp, y + (long)p * g.OutputSize, g, afterwards, act, residual == null ? null : residual + (long)p * g.OutputSize, divisor);
        }
    }

    /// <summary>Lanes [0, n) set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Mask(int n) =>
        Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(n)).AsSingle();

    /// <summary>
    /// The zero-bordered plane, rows of <paramref name="wp"/> floats, each written as whole vectors: lanes inside the input
    /// row come from a masked load (masked-off lanes are not read), the others are 0. A row's last vector runs into the next
    /// row, which is written after it.
    /// </summary>
    private static void Fill(float* src, Conv3D g, float* dst, int hp, int wp, ChannelTransform input, int c)
    {
        var row = new RowLoader(g.IW, input, c);
        for (int r = 0; r < hp; r++, dst += wp)
        {
            int iy = r - g.PH;
            bool inside = (uint)iy < (uint)g.IH;
            for (int col = 0; col < wp; col += 16)
                Vector512.Store(inside ? row.Load(src + (long)iy * g.IW, col - g.PW) : Vector512<float>.Zero, dst + col);
        }
    }

    /// <summary>
    /// Rows of <paramref name="pitch"/> floats from <paramref name="wide"/> to the output plane (OW floats each, the last
    /// vector of a row masked), then the epilogue over the whole plane, which NCHW keeps contiguous.
    /// </summary>
    internal static void StoreRows(float* wide, int pitch, float* yp, Conv3D g, bool epilogue, FusedActivation act, float* residual,
        PoolDivisor divisor = default)
    {
        var tail = Mask(g.OW % 16 == 0 ? 16 : g.OW % 16);
        for (int oy = 0; oy < g.OH; oy++)
        {
            float* src = wide + oy * pitch, dst = yp + oy * g.OW;
            int q = 0;
            if (divisor.IsNone)
            {
                for (; q + 16 < g.OW; q += 16) Vector512.Store(Vector512.Load(src + q), dst + q);
                Avx512F.MaskStore(dst + q, tail, Vector512.Load(src + q));
                continue;
            }
            // As PoolFloat's 8-wide kernel: the sum divided by (column count × row count), a product exact in float.
            var rowCount = Vector512.Create(divisor.Rows[oy]);
            for (; q + 16 < g.OW; q += 16) Vector512.Store(Vector512.Load(src + q) / (Vector512.Load(divisor.Columns + q) * rowCount), dst + q);
            Avx512F.MaskStore(dst + q, tail, Vector512.Load(src + q) / (Vector512.Load(divisor.Columns + q) * rowCount));
        }
        if (epilogue) act.ApplyRow(yp, g.OutputSize, 0, residual);
    }

    /// <summary>Sixteen input columns of a row, 0 outside it, through FusedConv's pre-activation when there is one.</summary>
    internal readonly struct RowLoader(int iw, ChannelTransform input, int c)
    {
        private readonly bool _transform = !input.IsIdentity;
        private readonly bool _relu = input.Relu;
        private readonly Vector512<float> _scale = Vector512.Create(input.IsIdentity ? 1 : input.Scale(c));
        private readonly Vector512<float> _shift = Vector512.Create(input.IsIdentity ? 0 : input.Shift(c));

        /// <summary>Columns [start, start + 16) of <paramref name="row"/> (masked-off lanes are not read).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Load(float* row, int start)
        {
            var at = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) + Vector512.Create(start);
            var inside = (Vector512.GreaterThanOrEqual(at, Vector512<int>.Zero) & Vector512.LessThan(at, Vector512.Create(iw))).AsSingle();
            var v = Avx512F.MaskLoad(row + start, inside, Vector512<float>.Zero);
            if (!_transform) return v;
            // A multiply then an add, as the separate nodes compute it; the padding stays 0 (it comes after the transform).
            v = v * _scale + _shift;
            if (_relu) v = Vector512.Max(v, Vector512<float>.Zero);
            return Vector512.ConditionalSelect(inside, v, Vector512<float>.Zero);
        }
    }

    /// <summary>out[0..64) = bias + Σ_t w[t] · src[offsets[t] + 0..64): four accumulators, call-free.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Block64(float* src, int* offsets, float* w, int taps, float bias, float* dst)
    {
        var a0 = Vector512.Create(bias);
        Vector512<float> a1 = a0, a2 = a0, a3 = a0;
        for (int t = 0; t < taps; t++)
        {
            float* s = src + offsets[t];
            var wv = Vector512.Create(w[t]);
            a0 = Avx512F.FusedMultiplyAdd(Vector512.Load(s), wv, a0);
            a1 = Avx512F.FusedMultiplyAdd(Vector512.Load(s + 16), wv, a1);
            a2 = Avx512F.FusedMultiplyAdd(Vector512.Load(s + 32), wv, a2);
            a3 = Avx512F.FusedMultiplyAdd(Vector512.Load(s + 48), wv, a3);
        }
        a0.Store(dst); a1.Store(dst + 16); a2.Store(dst + 32); a3.Store(dst + 48);
    }
}

/// <summary>
/// An average pool's divisors for the depthwise kernels run with weights of 1: output (oy, ox) is divided by
/// Rows[oy] · Columns[ox]. Columns holds OW floats and then at least 15 more (read by whole vectors). Default: none.
/// </summary>
internal readonly unsafe struct PoolDivisor(float* rows, float* columns)
{
    public readonly float* Rows = rows, Columns = columns;

    public bool IsNone => Rows == null;
}
