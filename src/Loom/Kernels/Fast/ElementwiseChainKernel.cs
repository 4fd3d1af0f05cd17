using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Fast;

/// <summary>
/// <c>com.loom.ElementwiseChain(X, T1, …)</c>, written by <see cref="Passes.FuseElementwiseChains"/>: a chain
/// of float32 element-wise ops applied to X, binary ops taking a scalar or one of the same-shape tensors
/// T1… as their other operand. The output is cut into blocks of <see cref="Block"/> elements; each block
/// goes through every op (ping-ponging between two stack buffers, the last op writing the output), so
/// the chain reads X and the Ti once and writes Y once. Large tensors are split over the pool.
/// </summary>
internal sealed class ElementwiseChainKernel(KernelInfo info) : Kernel
{
    /// <summary>Elements per block: 4 KB, in L1 with its twin; each op's switch is paid once per block.</summary>
    public const int Block = 1024;

    private readonly ChainStep[] _steps = ElementwiseChainProgram.Parse(info.Node, m => info.Fail(m));

    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        for (int i = 0; i < ctx.InputCount; i++)
        {
            var t = ctx.Input(i);
            if (t.DataType != DataType.Float) throw ctx.Fail($"input {i} is {t.DataType.Name()}; the chain runs float32 only");
            if (!t.Shape.SequenceEqual(x.Shape)) throw ctx.Fail($"input {i} has shape {ShapeMath.Format(t.Shape)}, not X's {ShapeMath.Format(x.Shape)}");
        }
        var y = ctx.AllocateOutput(0, DataType.Float, x.Shape, clear: false);
        ElementwiseParallel.For(ctx.Pool, x.Length, new ChainJob(_steps, ctx, x, y), ElementwiseParallel.CostlyOpThreshold);
    }

    private readonly struct ChainJob(ChainStep[] steps, KernelContext ctx, Tensor x, Tensor y) : IRangeJob
    {
        public void Run(int start, int end)
        {
            Span<float> scratch = stackalloc float[2 * Block];
            var xs = x.AsReadOnlySpan<float>();
            var ys = y.AsSpan<float>();
            for (int b = start; b < end; b += Block)
            {
                int n = Math.Min(Block, end - b);
                scoped ReadOnlySpan<float> src = xs.Slice(b, n);
                for (int i = 0; i < steps.Length; i++)
                {
                    var dst = i == steps.Length - 1 ? ys.Slice(b, n) : scratch.Slice((i & 1) * Block, n);
                    var other = steps[i].Operand >= 0 ? ctx.Input(steps[i].Operand).AsReadOnlySpan<float>().Slice(b, n) : default;
                    ElementwiseChainProgram.Apply(steps[i], src, other, dst);
                    src = dst;
                }
            }
        }
    }
}

[KernelRegistrations]
internal static class ElementwiseChainKernels
{
    public static void Register(KernelRegistry r) =>
        r.Add("ElementwiseChain", info => new ElementwiseChainKernel(info), 1, domain: Passes.FuseConvActivation.Domain);
}
