using System.Numerics.Tensors;

namespace Loom.Kernels.Batched;

/// <summary>
/// The TreeLSTM's elementwise part for one row of GEMM output, fused so the row stays in L1: bias, gate
/// activations, the cell update and h = o⊙tanh(c), written straight to the destination slots.
/// </summary>
internal static unsafe class TreeLstmGates
{
    /// <summary>Leaf: g = [i | o | u] pre-activations (3H, overwritten).</summary>
    public static void Leaf(int hd, float* g, float* bias, float* h, float* c)
    {
        var row = new Span<float>(g, 3 * hd);
        TensorPrimitives.Add(row, new ReadOnlySpan<float>(bias, 3 * hd), row);
        TensorPrimitives.Sigmoid(row[..(2 * hd)], row[..(2 * hd)]);
        var u = row.Slice(2 * hd, hd);
        TensorPrimitives.Tanh(u, u);
        var cs = new Span<float>(c, hd);
        TensorPrimitives.Multiply(row[..hd], u, cs);
        var hs = new Span<float>(h, hd);
        TensorPrimitives.Tanh(cs, hs);
        TensorPrimitives.Multiply(hs, row.Slice(hd, hd), hs);
    }

    /// <summary>Internal node: g = [f_l | i | o | u | f_r] pre-activations (5H, overwritten); cx = [c_l | c_r].</summary>
    public static void Node(int hd, float* g, float* bias, float* cx, float* h, float* c)
    {
        var row = new Span<float>(g, 5 * hd);
        TensorPrimitives.Add(row, new ReadOnlySpan<float>(bias, 5 * hd), row);
        TensorPrimitives.Sigmoid(row[..(3 * hd)], row[..(3 * hd)]);
        var u = row.Slice(3 * hd, hd);
        TensorPrimitives.Tanh(u, u);
        var fr = row.Slice(4 * hd, hd);
        TensorPrimitives.Sigmoid(fr, fr);
        var cs = new Span<float>(c, hd);
        TensorPrimitives.Multiply(row.Slice(hd, hd), u, cs);
        TensorPrimitives.FusedMultiplyAdd(row[..hd], new ReadOnlySpan<float>(cx, hd), cs, cs);
        TensorPrimitives.FusedMultiplyAdd(fr, new ReadOnlySpan<float>(cx + hd, hd), cs, cs);
        var hs = new Span<float>(h, hd);
        TensorPrimitives.Tanh(cs, hs);
        TensorPrimitives.Multiply(hs, row.Slice(2 * hd, hd), hs);
    }
}
