using Loom.Kernels.Common;
using Loom.Runtime;
using static Loom.Kernels.Common.ReduceNumerics;

namespace Loom.Kernels.Reference;

/// <summary>
/// LayerNormalization (opset 17) and RMSNormalization (opset 23): X is viewed as rows of the dims from
/// <c>axis</c> on; each row is standardized (or divided by its root mean square) and scaled (and
/// shifted) by broadcast Scale (and B), all in double with one rounding at the end. (The spec's
/// function casts the normalized values to X's type before scaling; ONNX Runtime does not, and for
/// float16 that cast costs several ulps, so Loom follows ONNX Runtime.) LayerNormalization also
/// returns the per-row Mean and InvStdDev in the stash type.
/// </summary>
[KernelRegistrations]
internal static class NormalizationLayerKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("LayerNormalization", info => Create(info, rms: false), sinceVersion: 17);
        r.Add("RMSNormalization", info => Create(info, rms: true), sinceVersion: 23);
    }

    private static LayerKernel Create(KernelInfo info, bool rms)
    {
        var dt = info.InputDataType(0);
        if (dt != DataType.Undefined && !ReduceTypeSwitch.IsFloating(dt))
            throw info.Unsupported($"{info.Node.OpType} does not support {dt.Name()} input");
        var stash = (DataType)info.GetInt("stash_type", 1);
        if (!ReduceTypeSwitch.IsFloating(stash)) throw info.Fail($"stash_type {(int)stash} is not a floating-point type");
        return new LayerKernel(rms, info.GetInt("axis", -1), info.GetFloat("epsilon", 1e-5f), stash);
    }

    private sealed class LayerKernel(bool rms, long axis, float epsilon, DataType stashType) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            int a = ReduceAxes.Single(axis, x.Rank, ctx.Fail);
            var scale = Param(ctx, ctx.Input(1), x, a, "Scale");
            var bias = !rms && ctx.OptionalInput(2) is { } b ? Param(ctx, b, x, a, "B") : null;
            var (rows, rowLength) = ReduceAxes.SplitBefore(x.Shape, a);
            // RMSNormalization's Y has Scale's type (V), which may differ from X's.
            var y = ctx.AllocateOutput(0, rms ? ctx.Input(1).DataType : x.DataType, x.Shape);
            var mean = new double[rows];
            var invStdDev = new double[rows];
            var work = new Work(x, y, scale, bias, rows, rowLength, epsilon, rms, mean, invStdDev);
            if (!ReduceTypeSwitch.Floating(x.DataType, ref work))
                throw ctx.Fail($"{ctx.Node.OpType} does not support {x.DataType.Name()} input");
            if (rms) return;
            var statShape = x.Shape.ToArray();
            for (int d = a; d < statShape.Length; d++) statShape[d] = 1;
            if (ctx.IsOutputRequested(1)) FromDoubles(mean, ctx.AllocateOutput(1, stashType, statShape));
            if (ctx.IsOutputRequested(2)) FromDoubles(invStdDev, ctx.AllocateOutput(2, stashType, statShape));
        }

        private static NormalizationParam Param(KernelContext ctx, Tensor p, Tensor x, int axis, string name) =>
            NormalizationParam.Create(p, x.Shape, axis)
            ?? throw ctx.Fail($"{name} of shape {ShapeMath.Format(p.Shape)} cannot be broadcast to X of shape {ShapeMath.Format(x.Shape)}");
    }

    /// <summary>Dispatches on X's type, then on Y's.</summary>
    private readonly struct Work(Tensor x, Tensor y, NormalizationParam scale, NormalizationParam? bias,
        int rows, int rowLength, float epsilon, bool rms, double[] mean, double[] invStdDev) : IReduceTypedAction
    {
        public void Invoke<T>() where T : unmanaged
        {
            var typed = new Typed<T>(this);
            if (!ReduceTypeSwitch.Floating(y.DataType, ref typed)) throw new UnsupportedException($"output type {y.DataType.Name()} is not floating point");
        }

        private readonly struct Typed<T>(Work w) : IReduceTypedAction where T : unmanaged
        {
            public void Invoke<TOut>() where TOut : unmanaged => w.Normalize<T, TOut>();
        }

        private void Normalize<T, TOut>() where T : unmanaged where TOut : unmanaged
        {
            var src = x.AsSpan<T>();
            var dst = y.AsSpan<TOut>();
            for (int r = 0; r < rows; r++)
            {
                var row = src.Slice(r * rowLength, rowLength);
                var outRow = dst.Slice(r * rowLength, rowLength);
                double m = 0, inv;
                if (rms) inv = 1 / Math.Sqrt(NormalizationStats.MeanSquare(row) + epsilon);
                else
                {
                    (m, double variance) = NormalizationStats.Moments(row);
                    inv = 1 / Math.Sqrt(variance + epsilon);
                }
                mean[r] = m;
                invStdDev[r] = inv;
                for (int j = 0; j < rowLength; j++)
                {
                    outRow[j] = FromDouble<TOut>((ToDouble(row[j]) - m) * inv * scale[r, j] + (bias?[r, j] ?? 0));
                }
            }
        }
    }
}
