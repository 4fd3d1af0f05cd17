using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Kernels.Common;

/// <summary>
/// Stride-1 "same" max pooling (odd window, pad = window / 2 on every side, output plane = input plane:
/// Inception's 3×3 pools before a 1×1 projection) on whole planes read as one flat run of floats, sixteen
/// positions per AVX-512 vector whatever the row width. The horizontal pass takes the taps at offsets
/// −r…r of the flat plane, masking off the ones that wrap into the neighbouring row (the column of every
/// lane is carried in a vector), into a scratch plane framed by −∞ rows; the vertical pass takes offsets
/// −r·W…r·W of that scratch. Why not row by row (<see cref="PoolMaxSeparable512"/>): a 13×13 or 6×6 plane
/// is one short vector per row, so per-row loop, mask and store-forwarding costs made such a pool 75 µs
/// for 512 planes of 13×13, against 33 µs here (one thread); its output is also written in full 64-byte vectors,
/// which costs less when the buffer's lines are still shared with the other core (the buffer's previous
/// tensor was read by both). The scratch alternates between two planes so that the vertical pass of one
/// plane never loads what the horizontal pass has only just stored. NaN never wins, as in <see cref="PoolCore"/>:
/// every running max starts at −∞ and MAXPS keeps its second operand (the running max) when either is NaN.
/// </summary>
internal static unsafe class PoolMaxSame512
{
    public static bool Supports(Conv3D g) =>
        Avx512F.IsSupported && g.SH == 1 && g.SW == 1 && g.LH == 1 && g.LW == 1 && g.KH % 2 == 1 && g.KW % 2 == 1
        && g.PH == g.KH / 2 && g.PW == g.KW / 2 && g.OH == g.IH && g.OW == g.IW && g.IH * g.IW >= 16 && g.KW <= 129;

    /// <summary>Planes [<paramref name="p0"/>, <paramref name="p1"/>) of the <paramref name="planes"/> of <paramref name="x"/> into <paramref name="y"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Planes(float* x, float* y, int planes, int p0, int p1, Conv3D g)
    {
        int w = g.IW, size = g.IH * w, rw = g.KW / 2, rh = g.KH / 2;
        int chunks = (size + 15) / 16, frame = rh * w, slot = size + 2 * frame;
        // Two framed scratch planes, then the columns of each chunk's lanes.
        float* buf = GemmScratch.ForThread.Extra(2 * slot + 16 * chunks);
        int* cols = (int*)(buf + 2 * slot);
        for (int c = 0; c < 2 * slot; c++) buf[c] = float.NegativeInfinity;
        for (int c = 0; c < chunks; c++)
            for (int l = 0; l < 16; l++) cols[16 * c + l] = (ChunkStart(c, size) + l) % w;
        for (int p = p0; p <= p1; p++)
        {
            // Taps that fall outside a plane are masked, but their loads still read: only the tensor's own ends need a copy.
            if (p < p1) Horizontal(x + (long)p * size, buf + (p & 1) * slot + frame, size, w, rw, chunks, cols, p == 0, p == planes - 1);
            if (p > p0) Vertical(buf + ((p - 1) & 1) * slot + frame, y + (long)(p - 1) * size, size, w, rh, chunks);
        }
    }

    /// <summary>Chunk c covers positions [start, start + 16); the last one ends at the plane's end, overlapping its neighbour.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ChunkStart(int c, int size) => Math.Min(c * 16, size - 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Horizontal(float* x, float* h, int size, int w, int rw, int chunks, int* cols, bool firstPlane, bool lastPlane)
    {
        float* edge = stackalloc float[16 + 2 * rw];
        for (int c = 0; c < chunks; c++)
        {
            int s = ChunkStart(c, size);
            var col = Vector512.Load(cols + 16 * c);
            // The tensor's first and last chunks read their neighbourhood from a copy, so no load leaves the tensor.
            float* src = x + s;
            if ((firstPlane && s - rw < 0) || (lastPlane && s + 16 + rw > size))
            {
                for (int i = -rw; i < 16 + rw; i++)
                    edge[i + rw] = s + i >= 0 && s + i < size ? x[s + i] : float.NegativeInfinity;
                src = edge + rw;
            }
            var acc = Avx512F.Max(Vector512.Load(src), Vector512.Create(float.NegativeInfinity));
            for (int dx = 1; dx <= rw; dx++)
            {
                // Left tap valid where col ≥ dx, right tap where col < w − dx.
                var left = Vector512.GreaterThanOrEqual(col, Vector512.Create(dx)).AsSingle();
                var right = Vector512.LessThan(col, Vector512.Create(w - dx)).AsSingle();
                acc = Vector512.ConditionalSelect(left, Avx512F.Max(Vector512.Load(src - dx), acc), acc);
                acc = Vector512.ConditionalSelect(right, Avx512F.Max(Vector512.Load(src + dx), acc), acc);
            }
            Vector512.Store(acc, h + s);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Vertical(float* h, float* y, int size, int w, int rh, int chunks)
    {
        for (int c = 0; c < chunks; c++)
        {
            int s = ChunkStart(c, size);
            float* src = h + s;
            var acc = Vector512.Load(src);
            for (int dy = 1; dy <= rh; dy++)
                acc = Avx512F.Max(Vector512.Load(src + (long)dy * w), Avx512F.Max(Vector512.Load(src - (long)dy * w), acc));
            Vector512.Store(acc, y + s);
        }
    }
}
