using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// One 2-D plane copied into a scratch buffer with a border of a fill value (0 for convolution and
/// average pooling, −∞ for max pooling) wide enough that every window of every output — and every
/// eight-wide vector of outputs, the last one shifted back to end at the row's end — reads inside it.
/// Sliding-window kernels then run one branch-free vector loop over whole rows, borders included,
/// which matters for the small planes of late layers where border outputs are a large share.
/// </summary>
internal static unsafe class ConvPaddedPlane
{
    /// <summary>Rows and row length of the padded plane for geometry <paramref name="g"/> (2-D; D = 1).</summary>
    public static (int Rows, int Width) Size(Conv3D g)
    {
        int ow = Math.Max(g.OW, 8);
        // The last vector reads up to (ow−1)·SW + (KW−1)·LW, plus one element at stride 2 (two loads for eight outputs).
        int width = Math.Max((ow - 1) * g.SW + (g.KW - 1) * g.LW + 1 + (g.SW == 2 ? 1 : 0), g.PW + g.IW);
        int rows = Math.Max((g.OH - 1) * g.SH + (g.KH - 1) * g.LH + 1, g.PH + g.IH);
        return (rows, width);
    }

    /// <summary>
    /// dst[r·width + c] = f(src[(r−PH)·IW + c−PW]) inside the plane, <paramref name="fill"/> outside, where f is the
    /// pre-activation x·scale + shift (then relu) when <paramref name="transform"/>, else the identity.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fill(float* src, Conv3D g, float* dst, int rows, int width, float fill,
        bool transform = false, float scale = 1, float shift = 0, bool relu = false) =>
        Fill(src, g, dst, 0, rows, width, fill, transform, scale, shift, relu);

    /// <summary>Rows [<paramref name="r0"/>, <paramref name="r1"/>) of the padded plane only (<paramref name="dst"/> is the plane's start).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fill(float* src, Conv3D g, float* dst, int r0, int r1, int width, float fill,
        bool transform = false, float scale = 1, float shift = 0, bool relu = false)
    {
        // Inline vector loops: planes of late layers are small, and calls per row would cost more than the copy.
        var f = Vector256.Create(fill);
        int iw = g.IW, pw = g.PW;
        dst += (long)r0 * width;
        for (int r = r0; r < r1; r++, dst += width)
        {
            int iy = r - g.PH, c = 0;
            if ((uint)iy >= (uint)g.IH)
            {
                for (; c + 8 <= width; c += 8) Vector256.Store(f, dst + c);
                for (; c < width; c++) dst[c] = fill;
                continue;
            }
            for (; c < pw; c++) dst[c] = fill;
            if (transform) Copy(src + (long)iy * iw, dst + pw, iw, scale, shift, relu);
            else
            {
                float* s = src + (long)iy * iw, d = dst + pw;
                int t = 0;
                for (; t + 8 <= iw; t += 8) Vector256.Store(Vector256.Load(s + t), d + t);
                for (; t < iw; t++) d[t] = s[t];
            }
            for (c = pw + iw; c < width; c++) dst[c] = fill;
        }
    }

    /// <summary>d[i] = relu?(s[i]·scale + shift) for i in [0, n) (a multiply then an add, as the separate nodes compute it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Copy(float* s, float* d, int n, float scale, float shift, bool relu)
    {
        var vs = Vector256.Create(scale);
        var vt = Vector256.Create(shift);
        int i = 0;
        if (relu)
            for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.Max(Vector256.Load(s + i) * vs + vt, Vector256<float>.Zero), d + i);
        else
            for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.Load(s + i) * vs + vt, d + i);
        for (; i < n; i++)
        {
            float v = s[i] * scale + shift;
            d[i] = relu ? Math.Max(v, 0) : v;
        }
    }

    /// <summary>[a0 a2 a4 a6 b0 b2 b4 b6]: eight stride-2 elements from two loads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Even(Vector256<float> a, Vector256<float> b) =>
        Avx2.Permute4x64(Avx.Shuffle(a, b, 0x88).AsDouble(), 0xD8).AsSingle();

    /// <summary>Where the vector of outputs from <paramref name="ox"/> starts: there, or moved back to end at <paramref name="ow"/> (rows of at least 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int VectorStart(int ox, int ow) => ox + 8 <= ow ? ox : ow - 8;
}

/// <summary>How eight outputs' taps are loaded at one horizontal stride; a struct parameter, so kernels specialize per stride.</summary>
internal unsafe interface ITapLoad
{
    /// <summary>The tap of eight consecutive outputs whose first is at <paramref name="s"/>.</summary>
    Vector256<float> Load(float* s);
}

/// <summary>Stride 1: eight consecutive elements.</summary>
internal readonly unsafe struct TapStride1 : ITapLoad
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Load(float* s) => Vector256.Load(s);
}

/// <summary>Stride 2: the even elements of two loads.</summary>
internal readonly unsafe struct TapStride2 : ITapLoad
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Load(float* s) => ConvPaddedPlane.Even(Vector256.Load(s), Vector256.Load(s + 8));
}
