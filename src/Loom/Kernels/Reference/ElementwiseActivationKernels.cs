using System.Numerics;
using Loom.Kernels.Common;

namespace Loom.Kernels.Reference;

/// <summary>Activations: the sigmoid/ReLU/ELU families, Gelu, Mish, HardSwish and PRelu (Shrink and Clip are in ElementwiseClipKernels).</summary>
[KernelRegistrations]
internal static class ElementwiseActivationKernels
{
    // Defaults of SELU's attributes (the float32 values of the constants in its paper, as ONNX states them).
    private const float SeluAlpha = 1.67326319217681884765625f;
    private const float SeluGamma = 1.05070102214813232421875f;

    public static void Register(KernelRegistry r)
    {
        r.Add("Relu", _ => new ReluFloatKernel(new NumberUnaryKernel<ReluOp>()));
        r.Add("LeakyRelu", info => new FloatUnaryKernel<LeakyReluOp>(new(info.GetFloat("alpha", 0.01f))));
        r.Add("PRelu", info => new BinaryNumberKernel<PReluOp>(LegacyBroadcast.PerChannelSlope(info)));
        r.Add("Elu", info => new FloatUnaryKernel<EluOp>(new(info.GetFloat("alpha", 1f))));
        r.Add("Selu", info => new FloatUnaryKernel<SeluOp>(new(info.GetFloat("alpha", SeluAlpha), Gamma: info.GetFloat("gamma", SeluGamma))));
        r.Add("Celu", info => new FloatUnaryKernel<CeluOp>(new(info.GetFloat("alpha", 1f))));
        r.Add("ThresholdedRelu", info => new FloatUnaryKernel<ThresholdedReluOp>(new(info.GetFloat("alpha", 1f))));
        r.Add("Sigmoid", _ => new FloatUnaryKernel<SigmoidOp>());
        r.Add("HardSigmoid", info => new FloatUnaryKernel<HardSigmoidOp>(new(info.GetFloat("alpha", 0.2f), info.GetFloat("beta", 0.5f))));
        r.Add("HardSwish", _ => new FloatUnaryKernel<HardSwishOp>());
        r.Add("Softplus", _ => new FloatUnaryKernel<SoftplusOp>());
        r.Add("Softsign", _ => new FloatUnaryKernel<SoftsignOp>());
        r.Add("Tanh", _ => new FloatUnaryKernel<TanhOp>());
        r.Add("Mish", _ => new FloatUnaryKernel<MishOp>());
        r.Add("Gelu", info => info.GetString("approximate", "none") switch
        {
            "none" => new FloatUnaryKernel<GeluOp>(),
            "tanh" => new FloatUnaryKernel<GeluTanhOp>(),
            var a => throw info.Fail($"approximate must be 'none' or 'tanh', not '{a}'"),
        });
    }

    private static T Alpha<T>(in ActivationParams p) where T : IFloatingPointIeee754<T> => T.CreateTruncating(p.Alpha);

    /// <summary>max(x, 0) for every number type; NaN stays NaN.</summary>
    private struct ReluOp : INumberOp { public static T Invoke<T>(T x) where T : INumber<T> => x < T.Zero ? T.Zero : x; }

    /// <summary>x where x &gt;= 0, slope·x elsewhere; the slope is broadcast to x (per channel before opset 7).</summary>
    private struct PReluOp : IBinaryNumberOp { public static T Invoke<T>(T x, T slope) where T : INumber<T> => x < T.Zero ? x * slope : x; }

    private struct LeakyReluOp : IFloatOp
    {
        public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => x < T.Zero ? Alpha<T>(p) * x : x;
    }

    private struct EluOp : IFloatOp
    {
        public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => x < T.Zero ? Alpha<T>(p) * (T.Exp(x) - T.One) : x;
    }

    private struct SeluOp : IFloatOp
    {
        public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T>
        {
            T gamma = T.CreateTruncating(p.Gamma), alpha = Alpha<T>(p);
            return x > T.Zero ? gamma * x : gamma * (alpha * T.Exp(x) - alpha);
        }
    }

    /// <summary>max(0, x) + min(0, alpha·(exp(x/alpha) - 1)).</summary>
    private struct CeluOp : IFloatOp
    {
        public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T>
        {
            T alpha = Alpha<T>(p);
            return T.Max(T.Zero, x) + T.Min(T.Zero, alpha * (T.Exp(x / alpha) - T.One));
        }
    }

    private struct ThresholdedReluOp : IFloatOp
    {
        public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => x > Alpha<T>(p) ? x : T.Zero;
    }

    /// <summary>1/(1+e^-x), written so neither branch overflows.</summary>
    private struct SigmoidOp : IFloatOp
    {
        public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T>
        {
            if (x >= T.Zero) return T.One / (T.One + T.Exp(-x));
            T e = T.Exp(x);
            return e / (T.One + e);
        }
    }

    private struct HardSigmoidOp : IFloatOp
    {
        public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> =>
            T.Max(T.Zero, T.Min(T.One, Alpha<T>(p) * x + T.CreateTruncating(p.Beta)));
    }

    /// <summary>x · HardSigmoid(x) with alpha 1/6, beta 1/2.</summary>
    private struct HardSwishOp : IFloatOp
    {
        public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> =>
            x * T.Max(T.Zero, T.Min(T.One, x / T.CreateTruncating(6) + T.CreateTruncating(0.5)));
    }

    /// <summary>log(1 + e^x), in float64 with an accurate log1p and rounded once.</summary>
    private struct SoftplusOp : IFloatOp
    {
        public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => Softplus(x);
        public static T Softplus<T>(T x) where T : IFloatingPointIeee754<T> => T.CreateTruncating(ElementwiseMath.Softplus(double.CreateTruncating(x)));
    }

    private struct SoftsignOp : IFloatOp
    {
        public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => x / (T.One + T.Abs(x));
    }

    private struct TanhOp : IFloatOp
    {
        public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T> => T.Tanh(x);
    }

    /// <summary>x · tanh(softplus(x)), in float64 and rounded once.</summary>
    private struct MishOp : IFloatOp
    {
        public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T>
        {
            double d = double.CreateTruncating(x);
            return T.CreateTruncating(d * Math.Tanh(ElementwiseMath.Softplus(d)));
        }
    }

    /// <summary>x/2 · (1 + erf(x/√2)), computed in float64 and rounded once.</summary>
    private struct GeluOp : IFloatOp
    {
        public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T>
        {
            double d = double.CreateTruncating(x);
            return T.CreateTruncating(0.5 * d * (1 + ElementwiseMath.Erf(d * 0.70710678118654752440)));
        }
    }

    /// <summary>x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³))), computed in float64 and rounded once.</summary>
    private struct GeluTanhOp : IFloatOp
    {
        public static T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T>
        {
            double d = double.CreateTruncating(x);
            return T.CreateTruncating(0.5 * d * (1 + Math.Tanh(0.79788456080286535588 * (d + 0.044715 * d * d * d))));
        }
    }
}
