using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>MatMulInteger (opset 10): (A − a_zero_point) · (B − b_zero_point) in exact int32.</summary>
[KernelRegistrations]
internal static class MatMulIntegerKernels
{
    public static readonly DataType[] Int8Types = [DataType.UInt8, DataType.Int8];

    public static void Register(KernelRegistry r)
    {
        r.Add("MatMulInteger", _ => ConvKernels.Guard(Int8Types, new MatMulIntegerKernel()), 10);
    }

    /// <summary>
    /// The int32 product of centred operands: A's zero point is scalar or per row of A, B's scalar or
    /// per column of B.
    /// </summary>
    public static int[] Multiply(KernelContext ctx, Tensor a, Tensor? aZero, Tensor b, Tensor? bZero, out MatMulShape s)
    {
        s = MatMulShape.Create(a.Shape, b.Shape, ctx.Fail);
        var ai = QuantValues.CenterRows(a, aZero, Math.Max(s.K, 1));
        var bi = QuantValues.CenterColumns(b, bZero, s.K, s.N);
        var y = new int[ShapeMath.Size(s.OutputShape)];
        MultiplyExact(s, ai, bi, y);
        return y;
    }

    /// <summary>Per batch, y = a · b in exact int32 through the float32 GEMM (<see cref="GemmExactInt"/>).</summary>
    private static unsafe void MultiplyExact(MatMulShape s, int[] ai, int[] bi, int[] y)
    {
        var af = Array.ConvertAll(ai, v => (float)v);
        var bf = Array.ConvertAll(bi, v => (float)v);
        int chunk = GemmExactInt.ChunkDepth(GemmExactInt.MaxAbs(af), GemmExactInt.MaxAbs(bf));
        int m = s.M, n = s.N, k = s.K;
        fixed (float* pa = af, pb = bf)
        fixed (int* py = y)
        {
            if (s.SharedB)
            {
                GemmExactInt.MultiplyAdd(m * s.BatchCount, n, k, pa, k, new GemmDenseB(pb, n, false), py, chunk);
                return;
            }
            for (int i = 0; i < s.BatchCount; i++)
                GemmExactInt.MultiplyAdd(m, n, k, pa + s.AOffsets[i], k, new GemmDenseB(pb + s.BOffsets[i], n, false), py + (long)i * m * n, chunk);
        }
    }
}

internal sealed class MatMulIntegerKernel : Kernel
{
    public override void Run(KernelContext ctx)
    {
        var acc = MatMulIntegerKernels.Multiply(ctx, ctx.Input(0), ctx.OptionalInput(2), ctx.Input(1), ctx.OptionalInput(3), out var s);
        acc.CopyTo(ctx.AllocateOutput(0, DataType.Int32, s.OutputShape).AsSpan<int>());
    }
}
