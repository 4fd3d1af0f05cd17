using Loom.Kernels.Common;

namespace Loom.Kernels.Fast;

/// <summary>
/// SIMD kernels for the float32 (and, where cheap, float64) elementwise ops real models run. They outrank
/// the reference kernels for exactly those dtypes (<see cref="Priority"/>) and from the opsets whose
/// semantics they implement; anything else they meet at run time goes to the reference kernel.
/// </summary>
[KernelRegistrations]
internal static class ElementwiseFastKernels
{
    /// <summary>The registry priority of every fast kernel (the reference kernels have 0).</summary>
    public const int Priority = 1;

    private static readonly DataType[] Float = [DataType.Float], Double = [DataType.Double];

    public static void Register(KernelRegistry r)
    {
        // Opset 7 brought NumPy broadcasting to the arithmetic ops, 8 to the variadic Max/Min/Sum.
        Binary(r, "Add", 7, new VectorOps.Add<float>(), new VectorOps.Add<double>());
        Binary(r, "Sub", 7, new VectorOps.Sub<float>(), new VectorOps.Sub<double>());
        Binary(r, "Mul", 7, new VectorOps.Mul<float>(), new VectorOps.Mul<double>());
        Binary(r, "Div", 7, new VectorOps.Div<float>(), new VectorOps.Div<double>());
        Binary(r, "PRelu", 7, new VectorOps.PRelu<float>(), new VectorOps.PRelu<double>());
        Binary(r, "Sum", 8, new VectorOps.Add<float>(), new VectorOps.Add<double>());
        Binary(r, "Max", 8, new VectorOps.Max<float>(), new VectorOps.Max<double>());
        Binary(r, "Min", 8, new VectorOps.Min<float>(), new VectorOps.Min<double>());

        Unary(r, "Relu", _ => new VectorOps.Relu<float>(), _ => new VectorOps.Relu<double>());
        Unary(r, "LeakyRelu", i => new VectorOps.LeakyRelu<float>(Alpha(i, 0.01f)), i => new VectorOps.LeakyRelu<double>(Alpha(i, 0.01f)));
        Unary(r, "HardSigmoid", i => new VectorOps.HardSigmoid<float>(Alpha(i, 0.2f), Beta(i, 0.5f)), i => new VectorOps.HardSigmoid<double>(Alpha(i, 0.2f), Beta(i, 0.5f)));
        Unary(r, "HardSwish", _ => new VectorOps.HardSwish<float>(), _ => new VectorOps.HardSwish<double>());
        Unary(r, "Neg", _ => new VectorOps.Neg<float>(), _ => new VectorOps.Neg<double>());
        Unary(r, "Abs", _ => new VectorOps.Abs<float>(), _ => new VectorOps.Abs<double>());
        Unary(r, "Sqrt", _ => new VectorOps.Sqrt<float>(), _ => new VectorOps.Sqrt<double>());
        Unary(r, "Reciprocal", _ => new VectorOps.Reciprocal<float>(), _ => new VectorOps.Reciprocal<double>());
        // float64 exp and log stay with the reference: .NET's vector forms are 2-3 ulps off there.
        FloatUnary(r, "Exp", _ => new VectorMathOps.Exp());
        FloatUnary(r, "Log", _ => new VectorMathOps.Log());
        FloatUnary(r, "Sigmoid", _ => new VectorMathOps.Sigmoid());
        FloatUnary(r, "Tanh", _ => new VectorMathOps.Tanh());
        FloatUnary(r, "Erf", _ => new VectorMathOps.Erf());
        FloatUnary(r, "Mish", _ => new VectorMathOps.Mish());
        r.Add("Gelu", info => info.GetString("approximate", "none") switch
        {
            "none" => new FastUnaryKernel<VectorMathOps.Gelu, float>(default, ReferenceKernels.Create(info), ElementwiseParallel.CostlyOpThreshold),
            "tanh" => new FastUnaryKernel<VectorMathOps.GeluTanh, float>(default, ReferenceKernels.Create(info), ElementwiseParallel.CostlyOpThreshold),
            _ => ReferenceKernels.Create(info), // which rejects the attribute
        }, 20, types: Float, priority: Priority);

        r.Add("Clip", info => new FastClipKernel<float>(Bound(info, "min"), Bound(info, "max"), ReferenceKernels.Create(info)), types: Float, priority: Priority);
        r.Add("Clip", info => new FastClipKernel<double>(Bound(info, "min"), Bound(info, "max"), ReferenceKernels.Create(info)), types: Double, priority: Priority);
        r.Add("Pow", info => new FastPowKernel<float>(ReferenceKernels.Create(info)), 7, types: Float, priority: Priority);
        r.Add("Pow", info => new FastPowKernel<double>(ReferenceKernels.Create(info)), 7, types: Double, priority: Priority);
    }

    // Attribute values are float32 in ONNX; the reference kernels widen them to the element type exactly so.
    private static float Alpha(KernelInfo info, float fallback) => info.GetFloat("alpha", fallback);
    private static float Beta(KernelInfo info, float fallback) => info.GetFloat("beta", fallback);

    /// <summary>Clip's bound attribute (before opset 11; from 11 the bounds are inputs and this is null).</summary>
    private static float? Bound(KernelInfo info, string name) =>
        info.Opset < 11 && info.Node.GetAttribute(name) is not null ? info.GetFloat(name, 0f) : null;

    private static void Binary<TF, TD>(KernelRegistry r, string op, int since, TF f, TD d)
        where TF : struct, IVectorBinaryOp<float> where TD : struct, IVectorBinaryOp<double>
    {
        r.Add(op, info => new FastBinaryKernel<TF, float>(f, ReferenceKernels.Create(info)), since, types: Float, priority: Priority);
        r.Add(op, info => new FastBinaryKernel<TD, double>(d, ReferenceKernels.Create(info)), since, types: Double, priority: Priority);
    }

    private static void Unary<TF, TD>(KernelRegistry r, string op, Func<KernelInfo, TF> f, Func<KernelInfo, TD> d, int threshold = ElementwiseParallel.CheapOpThreshold)
        where TF : struct, IVectorUnaryOp<float> where TD : struct, IVectorUnaryOp<double>
    {
        FloatUnary(r, op, f, threshold);
        r.Add(op, info => new FastUnaryKernel<TD, double>(d(info), ReferenceKernels.Create(info), threshold), types: Double, priority: Priority);
    }

    private static void FloatUnary<TF>(KernelRegistry r, string op, Func<KernelInfo, TF> f, int threshold = ElementwiseParallel.CostlyOpThreshold)
        where TF : struct, IVectorUnaryOp<float> =>
        r.Add(op, info => new FastUnaryKernel<TF, float>(f(info), ReferenceKernels.Create(info), threshold), types: Float, priority: Priority);
}
