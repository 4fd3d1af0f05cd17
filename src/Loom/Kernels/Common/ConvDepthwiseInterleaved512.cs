using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// 3×3 depthwise convolution (stride 1 or 2, any padding) on small planes with AVX-512, sixteen channels per vector as
/// ONNX Runtime's NCHWc layout has them, while Loom's tensors stay NCHW: sixteen planes are transposed 16 pixels at a time
/// into a zero-bordered [row][column][16 channels] scratch, each output pixel is then nine FMAs of whole vectors (one per
/// tap, the sixteen channels' weights as one vector), and sixteen output pixels are transposed back and stored to their
/// sixteen planes. The plane-wise kernels waste most of their lanes on borders and row ends at 7×7 and 14×14 and pay for
/// a padded copy per plane: ShuffleNet's 544×7×7 layer took 0.035 ms on <see cref="ConvDepthwiseWide512"/> against ONNX
/// Runtime's 0.017. Same sums in the same order as the plane-wise kernels (bias, then the taps row by row), so the same bits.
/// </summary>
internal static unsafe class ConvDepthwiseInterleaved512
{
    /// <summary>Channels per block (one vector).</summary>
    public const int Lanes = 16;

    /// <summary>
    /// Largest planes taken (measured on ShuffleNet's layers: its 56×56 → 28×28 stride-2 layer is the largest input, its
    /// 28×28 layers the largest outputs) and largest padded plane.
    /// </summary>
    private const int MaxInput = 56 * 56, MaxOutput = 28 * 28, MaxPadded = 64 * 64;

    public static bool Supports(Conv3D g) =>
        Avx512F.IsSupported && ReferenceEquals(GemmKernelSet.Current, GemmKernelSet.Avx512) && g.KD == 1 && g.ID == 1 && g.SD == 1
        && g.KH == 3 && g.KW == 3 && g.LH == 1 && g.LW == 1 && g.SH == g.SW && g.SH is 1 or 2
        && g.InputSize <= MaxInput && g.OutputSize <= MaxOutput && (long)PaddedRows(g) * PaddedColumns(g) <= MaxPadded;

    /// <summary>
    /// Average pools only on inputs up to 16×16: ShuffleNet's 272×14×14 pool took half the time of the plane-wise kernel,
    /// its 136×28×28 one the same, and its 24×56×56 one (one and a half blocks of channels) longer.
    /// </summary>
    public static bool SupportsPool(Conv3D g) => Supports(g) && g.InputSize <= 16 * 16;

    private static int PaddedRows(Conv3D g) => (g.OH - 1) * g.SH + 3;
    private static int PaddedColumns(Conv3D g) => (g.OW - 1) * g.SW + 3;

    /// <summary>Start of part <paramref name="part"/> of <paramref name="parts"/> over <paramref name="planes"/>, on a block boundary.</summary>
    public static int PartStart(int planes, int part, int parts) =>
        part >= parts ? planes : Math.Min(planes, (int)(((long)planes * part / parts + Lanes / 2) / Lanes * Lanes));

    /// <summary>Planes [p0, p1) of y (channel c = p mod channels): y = act(conv + bias[c] + residual).</summary>
    /// <param name="divisor">Average pooling (weights of 1): each output divided by its window's count (<see cref="PoolDivisor"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* x, float* w, float* bias, float* residual, float* y, int channels, int p0, int p1, Conv3D g, FusedActivation act,
        ChannelTransform input, PoolDivisor divisor = default)
    {
        if (p0 >= p1) return;
        int hp = PaddedRows(g), wp = PaddedColumns(g), inN = g.InputSize, outN = g.OutputSize;
        // The padded plane, one spare pixel for input pixels no output reads, sixteen staged output pixels, spare output rows for a
        // last block's missing lanes, then the tables (each 16 entries longer than its plane, for the last chunk).
        int planeFloats = (hp * wp + 1 + Lanes) * Lanes;
        float* plane = GemmScratch.ForThread.Extra(planeFloats + 4 * (outN + Lanes) + inN + Lanes);
        float* spare = plane + hp * wp * Lanes, stage = spare + Lanes, spareRows = plane + planeFloats;
        float* div = spareRows + outN + Lanes;
        int* outAt = (int*)(div + outN + Lanes), inAt = outAt + outN + Lanes;
        Layout(g, hp, wp, plane, inAt, outAt, divisor, div);
        float* taps = stackalloc float[9 * Lanes]; // tap t of lane l at [t·16 + l]
        float* laneBias = stackalloc float[Lanes], scale = stackalloc float[Lanes], shift = stackalloc float[Lanes];
        var src = stackalloc float*[Lanes];
        var dst = stackalloc float*[Lanes];
        var wrow = stackalloc float*[Lanes];
        bool transform = !input.IsIdentity, epilogue = act.Kind != ActivationKind.None || residual != null;
        nint row = (nint)wp * Lanes;
        for (int pb = p0; pb < p1; pb += Lanes)
        {
            int n = Math.Min(Lanes, p1 - pb);
            for (int l = 0, c = pb % channels; l < Lanes; l++)
            {
                // Missing lanes of a last block repeat its last plane and store to the spare rows.
                int lc = l < n ? c : (pb + n - 1) % channels, p = l < n ? pb + l : pb + n - 1;
                src[l] = x + input.SourceOf(p, lc) * inN;
                dst[l] = l < n ? y + (long)p * outN : spareRows;
                laneBias[l] = bias == null ? 0 : bias[lc];
                scale[l] = transform ? input.Scale(lc) : 1;
                shift[l] = transform ? input.Shift(lc) : 0;
                wrow[l] = w + (long)lc * 9;
                if (++c == channels) c = 0;
            }
            Weights(wrow, taps);
            var vscale = Vector512.Load(scale);
            var vshift = Vector512.Load(shift);
            var vbias = Vector512.Load(laneBias);
            for (int o = 0; o < inN; o += Lanes)
                InChunk(src, o, ConvDepthwiseWide512.Mask(inN - o), plane, inAt + o, transform, input.Relu, vscale, vshift);
            for (int o = 0; o < outN; o += Lanes)
            {
                int count = Math.Min(Lanes, outN - o);
                OutChunk(plane, outAt + o, row, taps, vbias, divisor.IsNone ? null : div + o, dst, o, count, ConvDepthwiseWide512.Mask(count), stage);
            }
            if (epilogue)
                for (int l = 0; l < n; l++)
                    act.ApplyRow(dst[l], outN, 0, residual == null ? null : residual + (long)(pb + l) * outN);
        }
    }

    /// <summary>
    /// Where each input pixel goes in the padded plane (the spare pixel if no output reads it), where each output pixel's
    /// window starts (0 past the plane), the divisors, and zeros at the border pixels (which no input pixel overwrites).
    /// </summary>
    private static void Layout(Conv3D g, int hp, int wp, float* plane, int* inAt, int* outAt, PoolDivisor divisor, float* div)
    {
        int spare = hp * wp * Lanes, i = 0;
        for (int iy = 0; iy < g.IH; iy++)
            for (int ix = 0; ix < g.IW; ix++, i++)
            {
                int r = iy + g.PH, col = ix + g.PW;
                inAt[i] = r < hp && col < wp ? (r * wp + col) * Lanes : spare;
            }
        for (int e = 0; e < Lanes; e++) inAt[i + e] = spare;
        int j = 0;
        for (int oy = 0; oy < g.OH; oy++)
            for (int ox = 0; ox < g.OW; ox++, j++)
            {
                outAt[j] = (oy * g.SH * wp + ox * g.SW) * Lanes;
                // As StoreRows: the column count times the row count, a product exact in float.
                if (!divisor.IsNone) div[j] = divisor.Columns[ox] * divisor.Rows[oy];
            }
        for (int r = 0; r < hp; r++)
            for (int col = 0; col < wp; col++)
                if ((uint)(r - g.PH) >= (uint)g.IH || (uint)(col - g.PW) >= (uint)g.IW)
                    Vector512.Store(Vector512<float>.Zero, plane + (r * wp + col) * Lanes);
    }

    /// <summary>Tap vector t (lane l: tap t of the channel whose nine taps start at <paramref name="w"/>[l]) to taps[16·t], t = 0..8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Weights(float** w, float* taps)
    {
        var m = ConvDepthwiseWide512.Mask(9);
        var z = Vector512<float>.Zero;
        var r0 = Avx512F.MaskLoad(w[0], m, z); var r1 = Avx512F.MaskLoad(w[1], m, z);
        var r2 = Avx512F.MaskLoad(w[2], m, z); var r3 = Avx512F.MaskLoad(w[3], m, z);
        var r4 = Avx512F.MaskLoad(w[4], m, z); var r5 = Avx512F.MaskLoad(w[5], m, z);
        var r6 = Avx512F.MaskLoad(w[6], m, z); var r7 = Avx512F.MaskLoad(w[7], m, z);
        var r8 = Avx512F.MaskLoad(w[8], m, z); var r9 = Avx512F.MaskLoad(w[9], m, z);
        var r10 = Avx512F.MaskLoad(w[10], m, z); var r11 = Avx512F.MaskLoad(w[11], m, z);
        var r12 = Avx512F.MaskLoad(w[12], m, z); var r13 = Avx512F.MaskLoad(w[13], m, z);
        var r14 = Avx512F.MaskLoad(w[14], m, z); var r15 = Avx512F.MaskLoad(w[15], m, z);
        Transpose16x16.Run(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, ref r8, ref r9, ref r10, ref r11, ref r12, ref r13,
            ref r14, ref r15);
        r0.Store(taps); r1.Store(taps + 16); r2.Store(taps + 32); r3.Store(taps + 48); r4.Store(taps + 64);
        r5.Store(taps + 80); r6.Store(taps + 96); r7.Store(taps + 112); r8.Store(taps + 128);
    }

    /// <summary>Input pixels [o, o + 16) of the sixteen planes (masked-off lanes not read) into the padded plane as pixel vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InChunk(float** src, int o, Vector512<float> mask, float* plane, int* at, bool transform, bool relu,
        Vector512<float> scale, Vector512<float> shift)
    {
        var z = Vector512<float>.Zero;
        var r0 = Avx512F.MaskLoad(src[0] + o, mask, z); var r1 = Avx512F.MaskLoad(src[1] + o, mask, z);
        var r2 = Avx512F.MaskLoad(src[2] + o, mask, z); var r3 = Avx512F.MaskLoad(src[3] + o, mask, z);
        var r4 = Avx512F.MaskLoad(src[4] + o, mask, z); var r5 = Avx512F.MaskLoad(src[5] + o, mask, z);
        var r6 = Avx512F.MaskLoad(src[6] + o, mask, z); var r7 = Avx512F.MaskLoad(src[7] + o, mask, z);
        var r8 = Avx512F.MaskLoad(src[8] + o, mask, z); var r9 = Avx512F.MaskLoad(src[9] + o, mask, z);
        var r10 = Avx512F.MaskLoad(src[10] + o, mask, z); var r11 = Avx512F.MaskLoad(src[11] + o, mask, z);
        var r12 = Avx512F.MaskLoad(src[12] + o, mask, z); var r13 = Avx512F.MaskLoad(src[13] + o, mask, z);
        var r14 = Avx512F.MaskLoad(src[14] + o, mask, z); var r15 = Avx512F.MaskLoad(src[15] + o, mask, z);
        Transpose16x16.Run(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, ref r8, ref r9, ref r10, ref r11, ref r12, ref r13,
            ref r14, ref r15);
        if (transform)
        {
            r0 = Pre(r0, scale, shift, relu); r1 = Pre(r1, scale, shift, relu); r2 = Pre(r2, scale, shift, relu); r3 = Pre(r3, scale, shift, relu);
            r4 = Pre(r4, scale, shift, relu); r5 = Pre(r5, scale, shift, relu); r6 = Pre(r6, scale, shift, relu); r7 = Pre(r7, scale, shift, relu);
            r8 = Pre(r8, scale, shift, relu); r9 = Pre(r9, scale, shift, relu); r10 = Pre(r10, scale, shift, relu); r11 = Pre(r11, scale, shift, relu);
            r12 = Pre(r12, scale, shift, relu); r13 = Pre(r13, scale, shift, relu); r14 = Pre(r14, scale, shift, relu); r15 = Pre(r15, scale, shift, relu);
        }
        r0.Store(plane + at[0]); r1.Store(plane + at[1]); r2.Store(plane + at[2]); r3.Store(plane + at[3]);
        r4.Store(plane + at[4]); r5.Store(plane + at[5]); r6.Store(plane + at[6]); r7.Store(plane + at[7]);
        r8.Store(plane + at[8]); r9.Store(plane + at[9]); r10.Store(plane + at[10]); r11.Store(plane + at[11]);
        r12.Store(plane + at[12]); r13.Store(plane + at[13]); r14.Store(plane + at[14]); r15.Store(plane + at[15]);
    }

    /// <summary>FusedConv's pre-activation as the plane-wise kernels apply it: a multiply then an add, then the ReLU.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pre(Vector512<float> v, Vector512<float> scale, Vector512<float> shift, bool relu)
    {
        v = v * scale + shift;
        return relu ? Vector512.Max(v, Vector512<float>.Zero) : v;
    }

    /// <summary>
    /// Output pixels [o, o + <paramref name="count"/>) of the sixteen planes: nine FMAs each into <paramref name="stage"/> (sixteen
    /// pixel vectors; a 7×7 plane's last chunk has one pixel), then transposed to the planes (masked-off lanes not stored).
    /// Staging the pixels in L1 keeps the nine weights in registers beside one window at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutChunk(float* plane, int* at, nint row, float* taps, Vector512<float> b, float* div, float** dst, int o,
        int count, Vector512<float> mask, float* stage)
    {
        var w0 = Vector512.Load(taps); var w1 = Vector512.Load(taps + 16); var w2 = Vector512.Load(taps + 32);
        var w3 = Vector512.Load(taps + 48); var w4 = Vector512.Load(taps + 64); var w5 = Vector512.Load(taps + 80);
        var w6 = Vector512.Load(taps + 96); var w7 = Vector512.Load(taps + 112); var w8 = Vector512.Load(taps + 128);
        for (int i = 0; i < count; i++)
        {
            var a = Pixel(plane + at[i], row, b, w0, w1, w2, w3, w4, w5, w6, w7, w8);
            if (div != null) a /= Vector512.Create(div[i]);
            a.Store(stage + i * Lanes);
        }
        var a0 = Vector512.Load(stage); var a1 = Vector512.Load(stage + 16); var a2 = Vector512.Load(stage + 32); var a3 = Vector512.Load(stage + 48);
        var a4 = Vector512.Load(stage + 64); var a5 = Vector512.Load(stage + 80); var a6 = Vector512.Load(stage + 96); var a7 = Vector512.Load(stage + 112);
        var a8 = Vector512.Load(stage + 128); var a9 = Vector512.Load(stage + 144); var a10 = Vector512.Load(stage + 160);
        var a11 = Vector512.Load(stage + 176); var a12 = Vector512.Load(stage + 192); var a13 = Vector512.Load(stage + 208);
        var a14 = Vector512.Load(stage + 224); var a15 = Vector512.Load(stage + 240);
        Transpose16x16.Run(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7, ref a8, ref a9, ref a10, ref a11, ref a12, ref a13,
            ref a14, ref a15);
        Avx512F.MaskStore(dst[0] + o, mask, a0); Avx512F.MaskStore(dst[1] + o, mask, a1);
        Avx512F.MaskStore(dst[2] + o, mask, a2); Avx512F.MaskStore(dst[3] + o, mask, a3);
        Avx512F.MaskStore(dst[4] + o, mask, a4); Avx512F.MaskStore(dst[5] + o, mask, a5);
        Avx512F.MaskStore(dst[6] + o, mask, a6); Avx512F.MaskStore(dst[7] + o, mask, a7);
        Avx512F.MaskStore(dst[8] + o, mask, a8); Avx512F.MaskStore(dst[9] + o, mask, a9);
        Avx512F.MaskStore(dst[10] + o, mask, a10); Avx512F.MaskStore(dst[11] + o, mask, a11);
        Avx512F.MaskStore(dst[12] + o, mask, a12); Avx512F.MaskStore(dst[13] + o, mask, a13);
        Avx512F.MaskStore(dst[14] + o, mask, a14); Avx512F.MaskStore(dst[15] + o, mask, a15);
    }

    /// <summary>bias + Σ taps · window, the taps row by row, for the window whose first pixel is at <paramref name="s"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pixel(float* s, nint row, Vector512<float> b, Vector512<float> w0, Vector512<float> w1, Vector512<float> w2,
        Vector512<float> w3, Vector512<float> w4, Vector512<float> w5, Vector512<float> w6, Vector512<float> w7, Vector512<float> w8)
    {
        var a = Avx512F.FusedMultiplyAdd(Vector512.Load(s), w0, b);
        a = Avx512F.FusedMultiplyAdd(Vector512.Load(s + 16), w1, a);
        a = Avx512F.FusedMultiplyAdd(Vector512.Load(s + 32), w2, a);
        a = Avx512F.FusedMultiplyAdd(Vector512.Load(s + row), w3, a);
        a = Avx512F.FusedMultiplyAdd(Vector512.Load(s + row + 16), w4, a);
        a = Avx512F.FusedMultiplyAdd(Vector512.Load(s + row + 32), w5, a);
        a = Avx512F.FusedMultiplyAdd(Vector512.Load(s + 2 * row), w6, a);
        a = Avx512F.FusedMultiplyAdd(Vector512.Load(s + 2 * row + 16), w7, a);
        return Avx512F.FusedMultiplyAdd(Vector512.Load(s + 2 * row + 32), w8, a);
    }
}
