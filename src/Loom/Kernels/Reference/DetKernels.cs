using Loom.Kernels.Common;
using Loom.Runtime;
using static Loom.Kernels.Common.ReduceNumerics;

namespace Loom.Kernels.Reference;

/// <summary>Det: determinants of square matrices <c>[*, M, M]</c> by LU decomposition with partial pivoting, in double.</summary>
[KernelRegistrations]
internal static class DetKernels
{
    public static void Register(KernelRegistry r) => r.Add("Det", info =>
    {
        var dt = info.InputDataType(0);
        if (dt != DataType.Undefined && !ReduceTypeSwitch.IsFloating(dt))
            throw info.Unsupported($"Det does not support {dt.Name()} input");
        return new DetKernel();
    }, sinceVersion: 11);

    private sealed class DetKernel : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.Rank < 2 || x.Shape[^1] != x.Shape[^2])
                throw ctx.Fail($"Det needs square matrices [*, M, M], not {ShapeMath.Format(x.Shape)}");
            var y = ctx.AllocateOutput(0, x.DataType, x.Shape[..^2]);
            var work = new Work(x, y, x.Shape[^1]);
            if (!ReduceTypeSwitch.Floating(x.DataType, ref work))
                throw ctx.Fail($"Det does not support {x.DataType.Name()} input");
        }
    }

    private readonly struct Work(Tensor x, Tensor y, int m) : IReduceTypedAction
    {
        public void Invoke<T>() where T : unmanaged
        {
            var src = x.AsSpan<T>();
            var dst = y.AsSpan<T>();
            var a = new double[m * m];
            for (int b = 0; b < dst.Length; b++)
            {
                var matrix = src.Slice(b * m * m, m * m);
                for (int i = 0; i < a.Length; i++) a[i] = ToDouble(matrix[i]);
                dst[b] = FromDouble<T>(Determinant(a, m));
            }
        }

        /// <summary>Eliminates in place; the determinant is the product of the pivots, negated once per row swap.</summary>
        private static double Determinant(double[] a, int m)
        {
            double det = 1;
            for (int c = 0; c < m; c++)
            {
                int pivot = c;
                for (int r = c + 1; r < m; r++)
                    if (Math.Abs(a[r * m + c]) > Math.Abs(a[pivot * m + c])) pivot = r;
                if (a[pivot * m + c] == 0) return 0;
                if (pivot != c)
                {
                    for (int j = 0; j < m; j++) (a[c * m + j], a[pivot * m + j]) = (a[pivot * m + j], a[c * m + j]);
                    det = -det;
                }
                double p = a[c * m + c];
                det *= p;
                for (int r = c + 1; r < m; r++)
                {
                    double f = a[r * m + c] / p;
                    if (f == 0) continue;
                    for (int j = c + 1; j < m; j++) a[r * m + j] -= f * a[c * m + j];
                }
            }
            return det;
        }
    }
}
