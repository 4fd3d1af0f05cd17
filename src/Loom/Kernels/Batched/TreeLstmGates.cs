using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Loom.Kernels.Batched.VectorMath;

namespace Loom.Kernels.Batched;

/// <summary>
/// The TreeLSTM's elementwise part for one row of GEMM output in one pass, 16 lanes at a time: bias, gate
/// activations, the cell update and h = o⊙tanh(c), written straight to the destination slots.
/// </summary>
internal static unsafe class TreeLstmGates
{
    /// <summary>Leaf: g = [i | o | u] pre-activations (3H).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Leaf(int hd, float* g, float* bias, float* h, float* c, bool keep = false)
    {
        int j = 0;
        for (; j + 16 <= hd; j += 16)
        {
            var i = Sigmoid(Vector512.Load(g + j) + Vector512.Load(bias + j));
            var o = Sigmoid(Vector512.Load(g + hd + j) + Vector512.Load(bias + hd + j));
            var u = Tanh(Vector512.Load(g + 2 * hd + j) + Vector512.Load(bias + 2 * hd + j));
            if (keep) { i.Store(g + j); o.Store(g + hd + j); u.Store(g + 2 * hd + j); }
            var cv = i * u;
            cv.Store(c + j);
            (o * Tanh(cv)).Store(h + j);
        }
        for (; j < hd; j++)
        {
            float i = Sigmoid(g[j] + bias[j]), o = Sigmoid(g[hd + j] + bias[hd + j]), u = MathF.Tanh(g[2 * hd + j] + bias[2 * hd + j]);
            if (keep) { g[j] = i; g[hd + j] = o; g[2 * hd + j] = u; }
            c[j] = i * u;
            h[j] = o * MathF.Tanh(c[j]);
        }
    }

    /// <summary>Internal node: g = [f_l | i | o | u | f_r] pre-activations (5H); cx = [c_l | c_r].</summary>
    public static void Node(int hd, float* g, float* bias, float* cx, float* h, float* c, bool keep = false) =>
        Node(hd, g, bias, cx, cx + hd, h, c, keep);

    /// <summary>
    /// <paramref name="w"/> hidden units of an internal node: g = [f_l | i | o | u | f_r], blocks of w; c_l and c_r
    /// apart (a thread that owns a range of the hidden units passes pointers into the middle of the rows).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Node(int w, float* g, float* bias, float* cl, float* cr, float* h, float* c, bool keep = false)
    {
        int j = 0;
        for (; j + 16 <= w; j += 16)
        {
            var fl = Sigmoid(Vector512.Load(g + j) + Vector512.Load(bias + j));
            var i = Sigmoid(Vector512.Load(g + w + j) + Vector512.Load(bias + w + j));
            var o = Sigmoid(Vector512.Load(g + 2 * w + j) + Vector512.Load(bias + 2 * w + j));
            var u = Tanh(Vector512.Load(g + 3 * w + j) + Vector512.Load(bias + 3 * w + j));
            var fr = Sigmoid(Vector512.Load(g + 4 * w + j) + Vector512.Load(bias + 4 * w + j));
            if (keep) { fl.Store(g + j); i.Store(g + w + j); o.Store(g + 2 * w + j); u.Store(g + 3 * w + j); fr.Store(g + 4 * w + j); }
            var cv = Vector512.FusedMultiplyAdd(fr, Vector512.Load(cr + j), Vector512.FusedMultiplyAdd(fl, Vector512.Load(cl + j), i * u));
            cv.Store(c + j);
            (o * Tanh(cv)).Store(h + j);
        }
        for (; j < w; j++)
        {
            float fl = Sigmoid(g[j] + bias[j]), i = Sigmoid(g[w + j] + bias[w + j]), o = Sigmoid(g[2 * w + j] + bias[2 * w + j]);
            float u = MathF.Tanh(g[3 * w + j] + bias[3 * w + j]), fr = Sigmoid(g[4 * w + j] + bias[4 * w + j]);
            if (keep) { g[j] = fl; g[w + j] = i; g[2 * w + j] = o; g[3 * w + j] = u; g[4 * w + j] = fr; }
            c[j] = i * u + fl * cl[j] + fr * cr[j];
            h[j] = o * MathF.Tanh(c[j]);
        }
    }

    /// <summary>
    /// Backward of <see cref="Node"/> for one row: from the kept activations a = [f_l | i | o | u | f_r], the cell c,
    /// the children's cells cx and the incoming dh, dc, writes the pre-activation gradient dz (5H) and the
    /// children's cell gradients dcx = [dc_l | dc_r].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void NodeBackward(int hd, float* a, float* c, float* cx, float* dh, float* dcIn, float* dz, float* dcx)
    {
        int j = 0;
        var one = Vector512<float>.One;
        for (; j + 16 <= hd; j += 16)
        {
            var fl = Vector512.Load(a + j); var i = Vector512.Load(a + hd + j); var o = Vector512.Load(a + 2 * hd + j);
            var u = Vector512.Load(a + 3 * hd + j); var fr = Vector512.Load(a + 4 * hd + j);
            var tc = Tanh(Vector512.Load(c + j));
            var dhv = Vector512.Load(dh + j);
            var dc = dhv * o * (one - tc * tc);
            if (dcIn is not null) dc += Vector512.Load(dcIn + j);
            (dc * Vector512.Load(cx + j) * fl * (one - fl)).Store(dz + j);
            (dc * u * i * (one - i)).Store(dz + hd + j);
            (dhv * tc * o * (one - o)).Store(dz + 2 * hd + j);
            (dc * i * (one - u * u)).Store(dz + 3 * hd + j);
            (dc * Vector512.Load(cx + hd + j) * fr * (one - fr)).Store(dz + 4 * hd + j);
            (dc * fl).Store(dcx + j);
            (dc * fr).Store(dcx + hd + j);
        }
        for (; j < hd; j++)
        {
            float fl = a[j], i = a[hd + j], o = a[2 * hd + j], u = a[3 * hd + j], fr = a[4 * hd + j];
            float tc = MathF.Tanh(c[j]);
            float dc = (dcIn is null ? 0 : dcIn[j]) + dh[j] * o * (1 - tc * tc);
            float dO = dh[j] * tc;
            dz[j] = dc * cx[j] * fl * (1 - fl);
            dz[hd + j] = dc * u * i * (1 - i);
            dz[2 * hd + j] = dO * o * (1 - o);
            dz[3 * hd + j] = dc * i * (1 - u * u);
            dz[4 * hd + j] = dc * cx[hd + j] * fr * (1 - fr);
            dcx[j] = dc * fl;
            dcx[hd + j] = dc * fr;
        }
    }

    /// <summary>Backward of <see cref="Leaf"/>: kept a = [i | o | u], cell c, incoming dh and dc; writes dz (3H).</summary>
    public static void LeafBackward(int hd, float* a, float* c, float* dh, float* dcIn, float* dz)
    {
        for (int j = 0; j < hd; j++)
        {
            float i = a[j], o = a[hd + j], u = a[2 * hd + j];
            float tc = MathF.Tanh(c[j]);
            float dc = dcIn[j] + dh[j] * o * (1 - tc * tc);
            dz[j] = dc * u * i * (1 - i);
            dz[hd + j] = dh[j] * tc * o * (1 - o);
            dz[2 * hd + j] = dc * i * (1 - u * u);
        }
    }
}
