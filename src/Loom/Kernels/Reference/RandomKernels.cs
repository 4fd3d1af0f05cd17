using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>
/// RandomNormal, RandomUniform, their *Like forms, Bernoulli and Multinomial. Values cannot match other
/// runtimes (each has its own generator); dtype and shape do. With a seed attribute every run of a
/// session gives the same values; without one each run draws new values. A run makes its own
/// generator, so kernels stay stateless and thread-safe.
/// </summary>
[KernelRegistrations]
internal static class RandomKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("RandomNormal", info => new Generate(Spec(info, info.GetFloat("mean", 0), info.GetFloat("scale", 1)), Shape(info), normal: true));
        r.Add("RandomUniform", info => new Generate(Spec(info, info.GetFloat("low", 0), info.GetFloat("high", 1)), Shape(info), normal: false));
        r.Add("RandomNormalLike", info => new Generate(Spec(info, info.GetFloat("mean", 0), info.GetFloat("scale", 1)), null, normal: true));
        r.Add("RandomUniformLike", info => new Generate(Spec(info, info.GetFloat("low", 0), info.GetFloat("high", 1)), null, normal: false));
        r.Add("Bernoulli", info => new BernoulliKernel(OutputType(info), Seed(info)), 15);
        r.Add("Multinomial", CreateMultinomial, 7);
    }

    /// <summary>Output dtype (attribute, else the input's, else float), seed, and the two distribution parameters.</summary>
    private sealed record Parameters(DataType DataType, float? Seed, double A, double B);

    private static Parameters Spec(KernelInfo info, float a, float b)
    {
        var dt = OutputType(info);
        if (dt is not (DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16))
            throw info.Unsupported($"{info.Node.OpType} generates float16, bfloat16, float or double, not {dt.Name()}");
        return new Parameters(dt, Seed(info), a, b);
    }

    private static DataType OutputType(KernelInfo info) =>
        info.Node.HasAttribute("dtype") ? (DataType)info.GetInt("dtype", 0)
        : info.Node.Inputs.Length > 0 && info.InputDataType(0) != DataType.Undefined ? info.InputDataType(0)
        : DataType.Float;

    private static float? Seed(KernelInfo info) => info.Node.HasAttribute("seed") ? info.GetFloat("seed", 0) : null;

    private static int[] Shape(KernelInfo info) =>
        (info.GetInts("shape") ?? throw info.Fail($"{info.Node.OpType} needs the 'shape' attribute")).Select(d => checked((int)d)).ToArray();

    /// <summary>Normal (A = mean, B = scale) or uniform in [A = low, B = high); the shape is fixed or that of input 0.</summary>
    private sealed class Generate(Parameters p, int[]? shape, bool normal) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var output = ctx.AllocateOutput(0, p.DataType, shape ?? ctx.Input(0).Shape);
            var rng = RandomGenerator.ForSeed(p.Seed);
            RandomValues.Fill(output, _ => normal ? p.A + p.B * rng.NextNormal() : p.A + (p.B - p.A) * rng.NextDouble());
        }
    }

    /// <summary>1 with probability input[i], else 0.</summary>
    private sealed class BernoulliKernel(DataType dataType, float? seed) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var probabilities = RandomValues.Read(ctx, ctx.Input(0));
            var output = ctx.AllocateOutput(0, dataType, ctx.Input(0).Shape);
            var rng = RandomGenerator.ForSeed(seed);
            RandomValues.Fill(output, i => rng.NextDouble() < probabilities[i] ? 1 : 0);
        }
    }

    private static Kernel CreateMultinomial(KernelInfo info)
    {
        var dt = (DataType)info.GetInt("dtype", (long)DataType.Int32);
        if (dt is not (DataType.Int32 or DataType.Int64)) throw info.Fail($"Multinomial outputs int32 or int64, not {dt.Name()}");
        long samples = info.GetInt("sample_size", 1);
        if (samples < 0 || samples > int.MaxValue) throw info.Fail($"sample_size {samples} is out of range");
        return new MultinomialKernel(dt, (int)samples, Seed(info));
    }

    /// <summary>
    /// Each row of [batch, classes] unnormalised log-probabilities gives sample_size class indices: the
    /// cumulative sum of exp(logit - max) (non-finite logits count as probability 0) is searched for a
    /// uniform draw scaled by the total.
    /// </summary>
    private sealed class MultinomialKernel(DataType dataType, int samples, float? seed) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.Rank != 2) throw ctx.Fail($"the input must be [batch, classes], not {ShapeMath.Format(x.Shape)}");
            int batch = x.Shape[0], classes = x.Shape[1];
            var logits = RandomValues.Read(ctx, x);
            var output = ctx.AllocateOutput(0, dataType, [batch, samples]);
            var rng = RandomGenerator.ForSeed(seed);
            var cdf = new double[classes];
            var picks = new long[batch * samples];
            for (int b = 0; b < batch; b++)
            {
                var row = logits.AsSpan(b * classes, classes);
                double max = double.MinValue;
                foreach (var v in row) if (double.IsFinite(v)) max = Math.Max(max, v);
                double total = 0;
                for (int c = 0; c < classes; c++)
                {
                    if (double.IsFinite(row[c])) total += Math.Exp(row[c] - max);
                    cdf[c] = total;
                }
                for (int s = 0; s < samples; s++)
                {
                    double target = rng.NextDouble() * total;
                    int lo = 0, hi = classes; // first index with cdf > target
                    while (lo < hi) { int mid = (lo + hi) / 2; if (cdf[mid] > target) hi = mid; else lo = mid + 1; }
                    picks[b * samples + s] = lo;
                }
            }
            RandomValues.Fill(output, i => picks[i]);
        }
    }
}
