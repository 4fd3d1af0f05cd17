using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Loom.Runtime;

namespace Loom.Kernels.Common;

/// <summary>
/// Relu on float32 tensors in vectors; other types go to the generic per-element kernel. A Relu the fusion passes
/// leave alone (ShuffleNet's after each Concat) ran through the generic INumber loop at ~1.1 ns per element, ten
/// times ONNX Runtime's. Same values as the generic op: x &lt; 0 ? 0 : x (NaN and −0 pass through).
/// </summary>
internal sealed class ReluFloatKernel(Kernel generic) : Kernel
{
    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        if (x.DataType != DataType.Float)
        {
            generic.Run(ctx);
            return;
        }
        var y = ctx.AllocateOutput(0, x.DataType, x.Shape);
        Apply(x.AsReadOnlySpan<float>(), y.AsSpan<float>());
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Apply(ReadOnlySpan<float> x, Span<float> y)
    {
        fixed (float* px = x, py = y)
        {
            int n = x.Length, i = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; i + 16 <= n; i += 16)
                {
                    var v = Vector512.Load(px + i);
                    Vector512.Store(Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), Vector512<float>.Zero, v), py + i);
                }
            if (Vector256.IsHardwareAccelerated)
                for (; i + 8 <= n; i += 8)
                {
                    var v = Vector256.Load(px + i);
                    Vector256.Store(Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), Vector256<float>.Zero, v), py + i);
                }
            for (; i < n; i++) py[i] = px[i] < 0 ? 0 : px[i];
        }
    }
}
