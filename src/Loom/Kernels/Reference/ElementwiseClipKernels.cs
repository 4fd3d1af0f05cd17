using System.Numerics;
using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Clip (bounds as attributes before opset 11, as optional scalar inputs since) and Shrink.</summary>
[KernelRegistrations]
internal static class ElementwiseClipKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Clip", info => new ClipKernel(AttributeBound(info, "min"), AttributeBound(info, "max")), 1, 10);
        r.Add("Clip", _ => new ClipKernel(null, null), 11);
        r.Add("Shrink", info => new ShrinkKernel(info.GetFloat("lambd", 0.5f), info.GetFloat("bias", 0f)));
    }

    private static float? AttributeBound(KernelInfo info, string name) =>
        info.Node.GetAttribute(name) is null ? null : info.GetFloat(name, 0f);

    /// <summary>
    /// y = min(max(x, min), max), as NumPy's clip: when min &gt; max every element becomes max, and NaN
    /// stays NaN. An absent bound does not clip.
    /// </summary>
    private sealed class ClipKernel(float? attrMin, float? attrMax) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            Tensor? lo = ctx.OptionalInput(1), hi = ctx.OptionalInput(2);
            foreach (var b in new[] { lo, hi })
            {
                if (b is null) continue;
                if (b.Length != 1) throw ctx.Fail($"min and max must be scalars, got shape {ShapeMath.Format(b.Shape)}");
                ElementwiseKernel.CheckSameType(ctx, x, b);
            }
            var y = ctx.AllocateOutput(0, x.DataType, x.Shape);
            if (ElementwiseTypes.IsHalfLike(x.DataType))
            {
                var wy = Tensor.Zeros(DataType.Float, x.Shape);
                Clip(ctx, ElementwiseTypes.Widen(x), lo is null ? null : ElementwiseTypes.Widen(lo), hi is null ? null : ElementwiseTypes.Widen(hi), wy);
                ElementwiseTypes.Narrow(wy.AsReadOnlySpan<float>(), y);
            }
            else Clip(ctx, x, lo, hi, y);
        }

        private void Clip(KernelContext ctx, Tensor x, Tensor? lo, Tensor? hi, Tensor y)
        {
            var v = new Visitor(x, lo, hi, y, attrMin, attrMax);
            if (!ElementwiseTypes.VisitNumber(x.DataType, ref v)) throw ElementwiseKernel.Unsupported(ctx, x.DataType);
        }

        private readonly struct Visitor(Tensor x, Tensor? lo, Tensor? hi, Tensor y, float? attrMin, float? attrMax) : INumberVisitor
        {
            public void Visit<T>() where T : unmanaged, INumber<T>
            {
                T? min = lo is not null ? lo.AsReadOnlySpan<T>()[0] : attrMin is { } a ? T.CreateSaturating(a) : null;
                T? max = hi is not null ? hi.AsReadOnlySpan<T>()[0] : attrMax is { } b ? T.CreateSaturating(b) : null;
                var s = x.AsReadOnlySpan<T>();
                var d = y.AsSpan<T>();
                for (int i = 0; i < s.Length; i++)
                {
                    T v = s[i];
                    if (min is { } mn) v = T.Max(v, mn);
                    if (max is { } mx) v = T.Min(v, mx);
                    d[i] = v;
                }
            }
        }
    }

    /// <summary>x + bias below -lambd, x - bias above lambd, 0 between; for every number type.</summary>
    private sealed class ShrinkKernel(float lambd, float bias) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var y = ctx.AllocateOutput(0, x.DataType, x.Shape);
            if (ElementwiseTypes.IsHalfLike(x.DataType))
            {
                var wy = Tensor.Zeros(DataType.Float, x.Shape);
                Shrink(ctx, ElementwiseTypes.Widen(x), wy);
                ElementwiseTypes.Narrow(wy.AsReadOnlySpan<float>(), y);
            }
            else Shrink(ctx, x, y);
        }

        private void Shrink(KernelContext ctx, Tensor x, Tensor y)
        {
            var v = new Visitor(x, y, lambd, bias);
            if (!ElementwiseTypes.VisitNumber(x.DataType, ref v)) throw ElementwiseKernel.Unsupported(ctx, x.DataType);
        }

        private readonly struct Visitor(Tensor x, Tensor y, float lambd, float bias) : INumberVisitor
        {
            public void Visit<T>() where T : unmanaged, INumber<T>
            {
                // Compare in float64 so a fractional lambd keeps its meaning for integer inputs.
                var s = x.AsReadOnlySpan<T>();
                var d = y.AsSpan<T>();
                for (int i = 0; i < s.Length; i++)
                {
                    double v = double.CreateTruncating(s[i]);
                    d[i] = v < -lambd ? T.CreateTruncating(v + bias) : v > lambd ? T.CreateTruncating(v - bias) : T.Zero;
                }
            }
        }
    }
}
