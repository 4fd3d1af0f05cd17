using Loom.Kernels.Common;
using Loom.Runtime;
using static Loom.Kernels.Common.ReduceNumerics;

namespace Loom.Kernels.Reference;

/// <summary>
/// BatchNormalization at every opset. Inference: <c>y = (x - mean) / sqrt(var + epsilon) * scale + B</c>
/// per channel (or, with spatial=0 before opset 9, per element of a sample). Training (training_mode=1
/// from opset 14; before, when more than Y is requested) normalizes with the batch statistics and
/// returns the running mean and variance <c>input * momentum + batch * (1 - momentum)</c>, then (before
/// opset 14) the batch mean and, as ONNX Runtime does, the batch's inverse standard deviation.
/// </summary>
[KernelRegistrations]
internal static class NormalizationBatchKernels
{
    public static void Register(KernelRegistry r) => r.Add("BatchNormalization", info =>
    {
        var dt = info.InputDataType(0);
        if (dt != DataType.Undefined && !ReduceTypeSwitch.IsFloating(dt))
            throw info.Unsupported($"BatchNormalization does not support {dt.Name()} input");
        bool extraOutputs = Enumerable.Range(1, Math.Max(0, info.Node.Outputs.Length - 1)).Any(info.Node.HasOutput);
        bool training = info.Opset >= 14 ? info.GetInt("training_mode", 0) != 0
            : extraOutputs && (info.Opset >= 7 || info.GetInt("is_test", 0) == 0);
        bool spatial = info.Opset >= 9 || info.GetInt("spatial", 1) != 0;
        return new BatchNormKernel(info.GetFloat("epsilon", 1e-5f), info.GetFloat("momentum", 0.9f), spatial, training);
    });

    private sealed class BatchNormKernel(float epsilon, float momentum, bool spatial, bool training) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.Rank < 2) throw ctx.Fail($"X must be [N, C, ...], not {ShapeMath.Format(x.Shape)}");
            // Parameters are indexed by p in [0, P); X is [N, P, S]: channels and spatial size, or (spatial=0) one sample and 1.
            int n = x.Shape[0];
            int p = spatial ? x.Shape[1] : (int)ShapeMath.Size(x.Shape[1..]);
            int s = x.Length / Math.Max(1, n * p);
            var scale = Read(ctx, 1, p, "scale");
            var bias = Read(ctx, 2, p, "B");
            var runningMean = Read(ctx, 3, p, "input_mean");
            var runningVar = Read(ctx, 4, p, "input_var");
            var (mean, variance) = training ? BatchMoments(ctx, x) : (runningMean, runningVar);

            var a = new double[p];
            for (int c = 0; c < p; c++) a[c] = scale[c] / Math.Sqrt(variance[c] + epsilon);
            var y = ctx.AllocateOutput(0, x.DataType, x.Shape);
            var work = new Work(x, y, n, p, s, mean, a, bias);
            if (!ReduceTypeSwitch.Floating(x.DataType, ref work))
                throw ctx.Fail($"BatchNormalization does not support {x.DataType.Name()} input");
            if (!training) return;

            var statType = ctx.Input(3).DataType;
            var statShape = ctx.Input(3).Shape;
            var outputs = new[]
            {
                runningMean.Select((v, c) => v * momentum + mean[c] * (1 - momentum)).ToArray(),
                runningVar.Select((v, c) => v * momentum + variance[c] * (1 - momentum)).ToArray(),
                mean,
                variance.Select(v => 1 / Math.Sqrt(v + epsilon)).ToArray(), // "saved_var" is the inverse std dev in ONNX Runtime
            };
            for (int k = 0; k < outputs.Length; k++)
                if (ctx.IsOutputRequested(k + 1)) FromDoubles(outputs[k], ctx.AllocateOutput(k + 1, statType, statShape));
        }

        private static double[] Read(KernelContext ctx, int input, int length, string name)
        {
            var t = ctx.Input(input);
            if (t.Length != length) throw ctx.Fail($"{name} has {t.Length} elements, expected {length}");
            return ToDoubles(t);
        }

        /// <summary>Batch mean and population variance over every axis but the channel (or, spatial=0, over the batch).</summary>
        private (double[] Mean, double[] Variance) BatchMoments(KernelContext ctx, Tensor x)
        {
            int[] axes = spatial ? ReduceAxes.All(x.Rank).Where(d => d != 1).ToArray() : [0];
            var plan = ReducePlan.Create(x.Shape, axes, keepDims: false);
            var moments = new MomentsAction(x, plan);
            if (!ReduceTypeSwitch.Floating(x.DataType, ref moments))
                throw ctx.Fail($"BatchNormalization does not support {x.DataType.Name()} input");
            return (moments.Mean, moments.Variance);
        }
    }

    private struct MomentsAction(Tensor x, ReducePlan plan) : IReduceTypedAction
    {
        public double[] Mean = [], Variance = [];

        public void Invoke<T>() where T : unmanaged => (Mean, Variance) = ReduceAccumulate.Moments(x.AsSpan<T>(), plan);
    }

    /// <summary><c>y = (x - mean[c]) * a[c] + bias[c]</c> with <c>a = scale / sqrt(var + epsilon)</c>.</summary>
    private readonly struct Work(Tensor x, Tensor y, int n, int p, int s, double[] mean, double[] a, double[] bias) : IReduceTypedAction
    {
        public void Invoke<T>() where T : unmanaged
        {
            var src = x.AsSpan<T>();
            var dst = y.AsSpan<T>();
            for (int b = 0; b < n; b++)
                for (int c = 0; c < p; c++)
                {
                    int start = (b * p + c) * s;
                    double m = mean[c], k = a[c], shift = bias[c];
                    for (int i = start; i < start + s; i++) dst[i] = FromDouble<T>((ToDouble(src[i]) - m) * k + shift);
                }
        }
    }
}
