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
    public static void Leaf(int hd, float* g, float* bias, float* h, float* c)
    {
        int j = 0;
        for (; j + 16 <= hd; j += 16)
        {
            var i = Sigmoid(Vector512.Load(g + j) + Vector512.Load(bias + j));
            var o = Sigmoid(Vector512.Load(g + hd + j) + Vector512.Load(bias + hd + j));
            var u = Tanh(Vector512.Load(g + 2 * hd + j) + Vector512.Load(bias + 2 * hd + j));
            var cv = i * u;
            cv.Store(c + j);
            (o * Tanh(cv)).Store(h + j);
        }
        for (; j < hd; j++)
        {
            float i = Sigmoid(g[j] + bias[j]), o = Sigmoid(g[hd + j] + bias[hd + j]), u = MathF.Tanh(g[2 * hd + j] + bias[2 * hd + j]);
            c[j] = i * u;
            h[j] = o * MathF.Tanh(c[j]);
        }
    }

    /// <summary>Internal node: g = [f_l | i | o | u | f_r] pre-activations (5H); cx = [c_l | c_r].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Node(int hd, float* g, float* bias, float* cx, float* h, float* c)
    {
        int j = 0;
        for (; j + 16 <= hd; j += 16)
        {
            var fl = Sigmoid(Vector512.Load(g + j) + Vector512.Load(bias + j));
            var i = Sigmoid(Vector512.Load(g + hd + j) + Vector512.Load(bias + hd + j));
            var o = Sigmoid(Vector512.Load(g + 2 * hd + j) + Vector512.Load(bias + 2 * hd + j));
            var u = Tanh(Vector512.Load(g + 3 * hd + j) + Vector512.Load(bias + 3 * hd + j));
            var fr = Sigmoid(Vector512.Load(g + 4 * hd + j) + Vector512.Load(bias + 4 * hd + j));
            var cv = i * u + fl * Vector512.Load(cx + j) + fr * Vector512.Load(cx + hd + j);
            cv.Store(c + j);
            (o * Tanh(cv)).Store(h + j);
        }
        for (; j < hd; j++)
        {
            float fl = Sigmoid(g[j] + bias[j]), i = Sigmoid(g[hd + j] + bias[hd + j]), o = Sigmoid(g[2 * hd + j] + bias[2 * hd + j]);
            float u = MathF.Tanh(g[3 * hd + j] + bias[3 * hd + j]), fr = Sigmoid(g[4 * hd + j] + bias[4 * hd + j]);
            c[j] = i * u + fl * cx[j] + fr * cx[hd + j];
            h[j] = o * MathF.Tanh(c[j]);
        }
    }
}
