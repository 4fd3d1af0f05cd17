using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Cast (target dtype from the <c>to</c> attribute) and CastLike (target dtype of input 1).</summary>
[KernelRegistrations]
internal static class ElementwiseCastKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Cast", info => new CastKernel(ElementwiseCastTarget.Of(info.Node, out var e) ?? throw info.Fail(e), Options(info)));
        r.Add("CastLike", info => new CastKernel(null, Options(info)));
    }

    private static CastOptions Options(KernelInfo info)
    {
        var o = ElementwiseCastTarget.Options(info.Node, out var error);
        return error.Length > 0 ? throw info.Fail(error) : o;
    }

    private sealed class CastKernel(DataType? to, CastOptions options) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var target = to ?? ctx.Input(1).DataType;
            if (x.DataType == target) { ctx.SetOutput(0, x); return; }
            var y = ctx.AllocateOutput(0, target, x.Shape);
            if (ElementwiseConvert.Convert(x, y, options) is { } bad)
                throw ctx.Fail($"cannot convert the string \"{bad}\" to {target.Name()}");
        }
    }
}
