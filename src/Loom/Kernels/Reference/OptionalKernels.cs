using Loom.IR;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>
/// Optional, OptionalHasElement, OptionalGetElement. From opset 18 the last two also accept a plain
/// tensor or sequence (which always "has" its element) and an omitted input (which has none).
/// </summary>
[KernelRegistrations]
internal static class OptionalKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Optional", CreateOptional, 15);
        r.Add("OptionalHasElement", _ => new HasElementKernel(), 15);
        r.Add("OptionalGetElement", _ => new GetElementKernel(), 15);
    }

    private static Kernel CreateOptional(KernelInfo info)
    {
        if (info.Node.HasInput(0)) return new WrapKernel(info.InputTypes[0]);
        var type = info.Node.GetAttribute("type")?.AsType() ?? throw info.Fail("an Optional without input needs the 'type' attribute");
        return new EmptyKernel(new OptionalValue(type, null));
    }

    private sealed class WrapKernel(IrType? elementType) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var v = ctx.InputValue(0) ?? throw ctx.Fail("input is missing");
            ctx.SetOutput(0, new OptionalValue(elementType ?? v.Type, v));
        }
    }

    private sealed class EmptyKernel(OptionalValue empty) : Kernel
    {
        public override void Run(KernelContext ctx) => ctx.SetOutput(0, empty);
    }

    private sealed class HasElementKernel : Kernel
    {
        public override void Run(KernelContext ctx) => ctx.SetOutput(0, Tensor.Scalar(ctx.InputValue(0) switch
        {
            null => false,
            OptionalValue o => o.HasValue,
            _ => true,
        }));
    }

    private sealed class GetElementKernel : Kernel
    {
        public override void Run(KernelContext ctx) => ctx.SetOutput(0, ctx.InputValue(0) switch
        {
            null => throw ctx.Fail("input is missing"),
            OptionalValue { Value: { } v } => v,
            OptionalValue => throw ctx.Fail("the optional input is empty"),
            var v => v,
        });
    }
}
