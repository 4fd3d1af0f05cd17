using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Pad (constant, reflect, edge, wrap; attributes before opset 11, inputs after; axes at 18) and CenterCropPad.</summary>
[KernelRegistrations]
internal static class ShapePadKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Pad", info =>
        {
            var mode = ShapePadding.ParseMode(info.GetString("mode", "constant"), info.Opset, info);
            if (info.Opset >= 11) return new PadKernel(mode, null, 0);
            var pads = info.GetInts(info.Opset == 1 ? "paddings" : "pads") ?? throw info.Fail("attribute 'pads' is missing");
            return new PadKernel(mode, pads.ToArray(), info.GetFloat("value", 0));
        });
        r.Add("CenterCropPad", info => new CenterCropPadKernel(info.GetInts("axes")?.ToArray()));
    }

    private sealed class PadKernel(PadMode mode, long[]? padsAttribute, float valueAttribute) : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            int rank = x.Rank;
            var pads = padsAttribute ?? ShapeIntegers.Read(ctx.Input(1)).ToArray();
            var axes = padsAttribute is null && ctx.OptionalInput(3) is { } a ? ShapeIntegers.Read(a).ToArray() : null;
            int n = axes?.Length ?? rank;
            if (pads.Length != 2 * n) throw ctx.Fail($"pads has {pads.Length} values; {2 * n} expected for {n} axes");
            var begin = new long[rank];
            var end = new long[rank];
            var seen = new bool[rank];
            for (int i = 0; i < n; i++)
            {
                int d = axes is null ? i : ShapeAxes.Axis(ctx, axes[i], rank);
                if (seen[d]) throw ctx.Fail($"axis {d} is padded twice");
                seen[d] = true;
                begin[d] = pads[i];
                end[d] = pads[n + i];
            }
            Tensor valueTensor = padsAttribute is not null ? ShapeIntegers.ScalarOf(x.DataType, valueAttribute, [])
                : ctx.OptionalInput(2) is { Length: > 0 } v ? v : Tensor.Zeros(x.DataType, []);
            if (valueTensor.DataType != x.DataType) throw ctx.Fail($"constant_value is {valueTensor.DataType.Name()} but data is {x.DataType.Name()}");
            ShapePadding.Pad(ctx, x, begin, end, mode, ShapeStorage.Elements<T>(valueTensor)[0]);
        }
    }

    /// <summary>Crops or zero-pads each chosen axis to the target size, centred (an odd difference puts the extra element at the end).</summary>
    private sealed class CenterCropPadKernel(long[]? axes) : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var shape = ShapeIntegers.Read(ctx.Input(1));
            int rank = x.Rank;
            var ax = axes ?? Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
            if (shape.Length != ax.Length) throw ctx.Fail($"shape has {shape.Length} values for {ax.Length} axes");
            var begin = new long[rank];
            var end = new long[rank];
            for (int i = 0; i < ax.Length; i++)
            {
                int d = ShapeAxes.Axis(ctx, ax[i], rank);
                long diff = shape[i] - x.Shape[d];
                if (shape[i] < 0) throw ctx.Fail($"target size {shape[i]} is negative");
                // Growing pads floor(diff/2) before; shrinking crops floor(-diff/2) before: the odd element goes after either way.
                begin[d] = diff >= 0 ? diff / 2 : -(-diff / 2);
                end[d] = diff - begin[d];
            }
            ShapePadding.Pad(ctx, x, begin, end, PadMode.Constant, ShapeStorage.Elements<T>(Tensor.Zeros(x.DataType, []))[0]);
        }
    }
}
