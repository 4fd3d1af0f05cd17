using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Where(condition, X, Y) with three-way broadcasting, for every element type (strings included).</summary>
[KernelRegistrations]
internal static class ElementwiseWhereKernels
{
    public static void Register(KernelRegistry r) => r.Add("Where", _ => new WhereKernel());

    private sealed class WhereKernel : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            Tensor c = ctx.Input(0), x = ctx.Input(1), y = ctx.Input(2);
            if (c.DataType != DataType.Bool) throw ctx.Fail($"condition must be bool, not {c.DataType.Name()}");
            ElementwiseKernel.CheckSameType(ctx, x, y);
            var o = ctx.AllocateOutput(0, x.DataType, ElementwiseLoops.BroadcastShape(ctx, c, x, y));
            // Dispatch on storage: float8, int4 and the like select bytes like uint8 does.
            var clr = x.DataType.ClrType();
            if (clr == typeof(float)) Select<float>(c, x, y, o);
            else if (clr == typeof(double)) Select<double>(c, x, y, o);
            else if (clr == typeof(Half)) Select<Half>(c, x, y, o);
            else if (clr == typeof(BFloat16)) Select<BFloat16>(c, x, y, o);
            else if (clr == typeof(sbyte)) Select<sbyte>(c, x, y, o);
            else if (clr == typeof(byte)) Select<byte>(c, x, y, o);
            else if (clr == typeof(short)) Select<short>(c, x, y, o);
            else if (clr == typeof(ushort)) Select<ushort>(c, x, y, o);
            else if (clr == typeof(int)) Select<int>(c, x, y, o);
            else if (clr == typeof(uint)) Select<uint>(c, x, y, o);
            else if (clr == typeof(long)) Select<long>(c, x, y, o);
            else if (clr == typeof(ulong)) Select<ulong>(c, x, y, o);
            else if (clr == typeof(bool)) Select<bool>(c, x, y, o);
            else if (clr == typeof(string)) Select<string>(c, x, y, o);
            else throw ElementwiseKernel.Unsupported(ctx, x.DataType);
        }

        private static void Select<T>(Tensor cond, Tensor x, Tensor y, Tensor output)
        {
            var c = cond.AsReadOnlySpan<bool>();
            var a = x.AsReadOnlySpan<T>();
            var b = y.AsReadOnlySpan<T>();
            var o = output.AsSpan<T>();
            if (o.Length == 0) return;
            var plan = BroadcastPlan.Create(cond.Dims, x.Dims, y.Dims);
            int n = plan.InnerLength, sc = plan.InnerStride(0), sa = plan.InnerStride(1), sb = plan.InnerStride(2);
            var rows = plan.GetRows();
            while (rows.MoveNext())
            {
                int oc = rows.Offset(0), oa = rows.Offset(1), ob = rows.Offset(2), oo = rows.OutputOffset;
                for (int i = 0; i < n; i++)
                    o[oo + i] = c[oc + i * sc] ? a[oa + i * sa] : b[ob + i * sb];
            }
        }
    }
}
