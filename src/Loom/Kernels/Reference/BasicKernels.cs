using Loom.Inference.Rules;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Identity and Constant.</summary>
[KernelRegistrations]
internal static class BasicKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Identity", _ => new IdentityKernel());
        r.Add("Constant", info => new ConstantKernel(BasicRules.ConstantValue(info.Node) ?? throw info.Fail("Constant has no value attribute")));
    }

    /// <summary>Passes its input through: tensors are immutable once produced, so no copy is needed.</summary>
    private sealed class IdentityKernel : Kernel
    {
        public override void Run(KernelContext ctx) => ctx.SetOutput(0, ctx.InputValue(0) ?? throw ctx.Fail("input is missing"));
    }

    private sealed class ConstantKernel(Tensor value) : Kernel
    {
        public override void Run(KernelContext ctx) => ctx.SetOutput(0, value);
    }
}
