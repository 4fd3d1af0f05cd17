using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>
/// Dropout (Bernoulli is in RandomKernels). Random draws use .NET's generator (seeded by the <c>seed</c> attribute when
/// given, so a seeded node repeats itself run after run); they cannot reproduce another runtime's numbers.
/// </summary>
[KernelRegistrations]
internal static class ElementwiseRandomKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Dropout", info => new DropoutKernel(
            info.GetFloat("ratio", 0.5f),
            maskIsBool: info.Opset >= 10,
            trainingInput: info.Opset >= 12,
            Seed(info)));
    }

    private static int? Seed(KernelInfo info) => info.Node.GetAttribute("seed") switch
    {
        null => null,
        var a => a.Kind == IR.AttributeKind.Int ? (int)a.AsInt() : BitConverter.SingleToInt32Bits(a.AsFloat()),
    };

    private static Random Generator(int? seed) => seed is { } s ? new Random(s) : Random.Shared;

    /// <summary>
    /// Outside training (the default; before opset 12 always, as ONNX Runtime) the output is the input
    /// and the mask all true. In training with ratio r: each element is kept with probability 1-r and
    /// scaled by 1/(1-r). The mask is bool since opset 10, of the input's type before.
    /// </summary>
    private sealed class DropoutKernel(float attrRatio, bool maskIsBool, bool trainingInput, int? seed) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            double ratio = trainingInput && ctx.OptionalInput(1) is { } r ? Scalar(ctx, r) : attrRatio;
            bool training = trainingInput && ctx.OptionalInput(2) is { } t && Training(ctx, t);
            if (!training || ratio == 0)
            {
                ctx.SetOutput(0, x);
                if (ctx.IsOutputRequested(1)) Fill(ctx.AllocateOutput(1, MaskType(x), x.Shape), keep: null);
                return;
            }
            if (ratio is < 0 or >= 1) throw ctx.Fail($"ratio must be in [0, 1), got {ratio}");
            var keep = new bool[x.Length];
            var rng = Generator(seed);
            for (int i = 0; i < keep.Length; i++) keep[i] = rng.NextDouble() >= ratio;
            var values = ElementwiseConvert.ToDoubles(x);
            double scale = 1 / (1 - ratio);
            for (int i = 0; i < values.Length; i++) values[i] = keep[i] ? values[i] * scale : 0;
            ElementwiseConvert.FromDoubles(values, ctx.AllocateOutput(0, x.DataType, x.Shape), default);
            if (ctx.IsOutputRequested(1)) Fill(ctx.AllocateOutput(1, MaskType(x), x.Shape), keep);
        }

        private DataType MaskType(Tensor x) => maskIsBool ? DataType.Bool : x.DataType;

        /// <summary>Writes the mask: all ones when <paramref name="keep"/> is null.</summary>
        private static void Fill(Tensor mask, bool[]? keep)
        {
            var ones = new double[mask.Length];
            for (int i = 0; i < ones.Length; i++) ones[i] = keep is null || keep[i] ? 1 : 0;
            ElementwiseConvert.FromDoubles(ones, mask, default);
        }

        private static double Scalar(KernelContext ctx, Tensor r)
        {
            if (r.Length != 1 || !r.DataType.IsFloatingPoint()) throw ctx.Fail($"ratio must be a floating-point scalar, got {r}");
            return ElementwiseConvert.ToDoubles(r)[0];
        }

        private static bool Training(KernelContext ctx, Tensor t)
        {
            if (t.Length != 1 || t.DataType != DataType.Bool) throw ctx.Fail($"training_mode must be a bool scalar, got {t}");
            return t.AsReadOnlySpan<bool>()[0];
        }
    }
}
