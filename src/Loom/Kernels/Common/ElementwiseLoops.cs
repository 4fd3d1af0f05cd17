using Loom.Runtime;

namespace Loom.Kernels.Common;

/// <summary>
/// A function of one element. Implemented by structs so the generic loops below are specialised and
/// the call inlined per operator and type; a later SIMD version can add vector overloads to the same structs.
/// </summary>
internal interface IUnaryFunc<T, TResult>
{
    TResult Invoke(T x);
}

/// <summary>A function of two elements (possibly of different types, as Pow's base and exponent).</summary>
internal interface IBinaryFunc<T1, T2, TResult>
{
    TResult Invoke(T1 x, T2 y);
}

/// <summary>The loops every elementwise kernel runs: a flat map, and a NumPy-broadcast walk over <see cref="BroadcastPlan"/> rows.</summary>
internal static class ElementwiseLoops
{
    public static void Map<TF, T, TR>(TF f, ReadOnlySpan<T> x, Span<TR> y) where TF : struct, IUnaryFunc<T, TR>
    {
        for (int i = 0; i < x.Length; i++) y[i] = f.Invoke(x[i]);
    }

    /// <summary>Applies <paramref name="f"/> to <paramref name="a"/> and <paramref name="b"/> broadcast to <paramref name="output"/>'s shape.</summary>
    public static void Broadcast<TF, T1, T2, TR>(TF f, Tensor a, Tensor b, Tensor output) where TF : struct, IBinaryFunc<T1, T2, TR>
    {
        var x = a.AsReadOnlySpan<T1>();
        var y = b.AsReadOnlySpan<T2>();
        var z = output.AsSpan<TR>();
        if (z.Length == 0) return;
        // Common cases without a plan: same shapes, or one side a single element.
        if (x.Length == z.Length && y.Length == z.Length && a.Shape.SequenceEqual(b.Shape))
        {
            for (int i = 0; i < z.Length; i++) z[i] = f.Invoke(x[i], y[i]);
            return;
        }
        if (y.Length == 1 && x.Length == z.Length)
        {
            var v = y[0];
            for (int i = 0; i < z.Length; i++) z[i] = f.Invoke(x[i], v);
            return;
        }
        if (x.Length == 1 && y.Length == z.Length)
        {
            var v = x[0];
            for (int i = 0; i < z.Length; i++) z[i] = f.Invoke(v, y[i]);
            return;
        }
        var plan = BroadcastPlan.Create(a.Dims, b.Dims);
        int n = plan.InnerLength, sa = plan.InnerStride(0), sb = plan.InnerStride(1);
        var rows = plan.GetRows();
        while (rows.MoveNext())
        {
            var xr = x.Slice(rows.Offset(0));
            var yr = y.Slice(rows.Offset(1));
            var zr = z.Slice(rows.OutputOffset, n);
            if (sa == 1 && sb == 1) for (int i = 0; i < n; i++) zr[i] = f.Invoke(xr[i], yr[i]);
            else if (sa == 1) { var v = yr[0]; for (int i = 0; i < n; i++) zr[i] = f.Invoke(xr[i], v); }
            else if (sb == 1) { var v = xr[0]; for (int i = 0; i < n; i++) zr[i] = f.Invoke(v, yr[i]); }
            else zr.Fill(f.Invoke(xr[0], yr[0]));
        }
    }

    /// <summary>The broadcast shape of the inputs, or an error naming the node and the shapes.</summary>
    public static int[] BroadcastShape(KernelContext ctx, params Tensor[] inputs)
    {
        var shape = inputs[0].Dims;
        for (int i = 1; i < inputs.Length; i++)
        {
            try { shape = ShapeMath.Broadcast(shape, inputs[i].Dims); }
            catch (ShapeException)
            {
                throw ctx.Fail($"input shapes {string.Join(", ", inputs.Select(t => ShapeMath.Format(t.Shape)))} cannot be broadcast together");
            }
        }
        return shape;
    }
}
