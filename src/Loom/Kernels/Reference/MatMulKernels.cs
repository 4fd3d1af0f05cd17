using System.Numerics;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>MatMul (opsets 1, 9, 13) with NumPy semantics: 1-D operands and broadcast batch dims.</summary>
[KernelRegistrations]
internal static class MatMulKernels
{
    public static readonly DataType[] Types =
    [
        DataType.Float, DataType.Double, DataType.Float16, DataType.BFloat16,
        DataType.Int32, DataType.Int64, DataType.UInt32, DataType.UInt64,
    ];

    public static void Register(KernelRegistry r)
    {
        r.Add("MatMul", info => ConvKernels.Guard(Types, new MatMulKernel(info)), 1);
    }

    /// <summary>Per output batch, c = a · b for the dtypes without a tuned kernel.</summary>
    public static void RunNaive<T>(MatMulShape s, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : INumberBase<T>
    {
        int mk = s.M * s.K, kn = s.K * s.N, mn = s.M * s.N;
        for (int i = 0; i < s.BatchCount; i++)
            GemmNaive.Multiply(s.M, s.N, s.K, a.Slice(s.AOffsets[i], mk), s.K, false, b.Slice(s.BOffsets[i], kn), s.N, false, y.Slice(i * mn, mn), s.N);
    }
}

/// <summary>
/// float32 goes through <see cref="GemmCore"/>: when B has no batch dims every batch of A is stacked
/// into one tall GEMM, and a constant 2-D B is packed once at session creation.
/// </summary>
internal sealed unsafe class MatMulKernel : Kernel
{
    private readonly GemmPackedB? _packedB;
    private readonly ShapeKeyedCache<MatMulShape> _shapes = new();

    public MatMulKernel(KernelInfo info)
    {
        if (info.ConstantInput(1) is { DataType: DataType.Float, Rank: 2 } b && b.Length > 0)
            fixed (float* pb = b.AsSpan<float>())
                _packedB = new GemmPackedB(GemmKernelSet.Current, b.Shape[0], b.Shape[1], pb, b.Shape[1], transposed: false);
    }

    public override void Run(KernelContext ctx)
    {
        var a = ctx.Input(0);
        var b = ctx.Input(1);
        if (a.DataType != b.DataType) throw ctx.Fail($"inputs are {a.DataType.Name()} and {b.DataType.Name()}");
        var s = _shapes.Get(a.Shape, b.Shape, ctx, static c => MatMulShape.Create(c.Input(0).Shape, c.Input(1).Shape, c.Fail));
        var y = ctx.AllocateOutput(0, a.DataType, s.OutputShape, clear: false);
        if (y.Length == 0) return;
        switch (a.DataType)
        {
            case DataType.Float: RunFloat(s, a.AsSpan<float>(), b.AsSpan<float>(), y.AsSpan<float>(), _packedB, ctx.Pool); break;
            case DataType.Double: MatMulKernels.RunNaive(s, a.AsSpan<double>(), b.AsSpan<double>(), y.AsSpan<double>()); break;
            case DataType.Int32: MatMulKernels.RunNaive(s, a.AsSpan<int>(), b.AsSpan<int>(), y.AsSpan<int>()); break;
            case DataType.Int64: MatMulKernels.RunNaive(s, a.AsSpan<long>(), b.AsSpan<long>(), y.AsSpan<long>()); break;
            case DataType.UInt32: MatMulKernels.RunNaive(s, a.AsSpan<uint>(), b.AsSpan<uint>(), y.AsSpan<uint>()); break;
            case DataType.UInt64: MatMulKernels.RunNaive(s, a.AsSpan<ulong>(), b.AsSpan<ulong>(), y.AsSpan<ulong>()); break;
            default:
                var yf = new float[y.Length];
                RunFloat(s, GemmFloatData.ToFloat(a), GemmFloatData.ToFloat(b), yf, null, ctx.Pool);
                GemmFloatData.FromFloat(yf, y);
                break;
        }
    }

    public static void RunFloat(MatMulShape s, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y, GemmPackedB? packedB,
        Runtime.Threading.WorkerPool? pool)
    {
        int m = s.M, n = s.N, k = s.K;
        fixed (float* pa = a, pb = b, py = y)
        {
            if (s.SharedB)
            {
                int rows = m * s.BatchCount;
                if (packedB is not null && rows > 1)
                    GemmCore.Multiply(packedB.Kernels, rows, n, k, new GemmDenseA(pa, k, false, 1), packedB.AsOperand(), py, n, false, pool);
                else
                    GemmCore.Multiply(rows, n, k, 1, pa, k, false, pb, n, false, py, n, false, pool);
                return;
            }
            for (int i = 0; i < s.BatchCount; i++)
                GemmCore.Multiply(m, n, k, 1, pa + s.AOffsets[i], k, false, pb + s.BOffsets[i], n, false, py + (long)i * m * n, n, false, pool);
        }
    }
}
