using Loom.Kernels.Reference;

namespace Loom.Kernels.Fast;

/// <summary>
/// The reference kernels of the families that have fast kernels, in a registry of their own: fast
/// kernels fall back to them for what they do not handle (other dtypes, legacy attributes, errors, which
/// the reference reports), and the parity tests run them side by side with the fast ones.
/// </summary>
internal static class ReferenceKernels
{
    public static KernelRegistry Registry { get; } = Build();

    /// <summary>The reference kernel for a node (the one the default registry would pick without fast kernels).</summary>
    public static Kernel Create(KernelInfo info) => Registry.Resolve(info)(info);

    private static KernelRegistry Build()
    {
        var r = new KernelRegistry();
        ElementwiseArithmeticKernels.Register(r);
        ElementwiseActivationKernels.Register(r);
        ElementwiseMathKernels.Register(r);
        ElementwiseClipKernels.Register(r);
        ElementwisePowKernels.Register(r);
        ElementwiseWhereKernels.Register(r);
        ElementwiseCastKernels.Register(r);
        ReduceKernels.Register(r);
        SoftmaxKernels.Register(r);
        NormalizationLayerKernels.Register(r);
        NormalizationBatchKernels.Register(r);
        NormalizationInstanceKernels.Register(r);
        NormalizationLocalKernels.Register(r);
        return r;
    }
}
