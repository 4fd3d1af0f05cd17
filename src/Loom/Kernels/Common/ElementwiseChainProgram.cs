using Loom.IR;

namespace Loom.Kernels.Common;

/// <summary>The operators a chain can hold, named as in ONNX.</summary>
internal enum ChainOp : byte
{
    Add, Sub, Mul, Div, Max, Min,
    Relu, LeakyRelu, Sigmoid, Tanh, Exp, Log, Erf, Neg, Abs, Sqrt, Reciprocal, Clip, HardSigmoid, HardSwish,
}

/// <summary>One operation of a fused element-wise chain (see <see cref="ElementwiseChainProgram"/>).</summary>
/// <param name="Op">The ONNX operator it stands for.</param>
/// <param name="Operand">For a binary op with a tensor operand: that operand's input index of the fused node (0, X itself, in x·sigmoid(x)); -1 otherwise.</param>
/// <param name="Swap">For a binary op: the chain value is the right operand (<c>c - x</c>, <c>c / x</c>).</param>
/// <param name="A">Scalar operand of a binary op, LeakyRelu's and HardSigmoid's alpha, Clip's lower bound.</param>
/// <param name="B">HardSigmoid's beta, Clip's upper bound.</param>
internal readonly record struct ChainStep(ChainOp Op, int Operand, bool Swap, float A, float B);

/// <summary>
/// The float32 operations of a <c>com.loom.ElementwiseChain</c> node and how to apply one of them to a
/// block of elements. Each op is the SIMD op struct the unfused operator's fast kernel uses, so a chain
/// gives what the unfused nodes give, bit for bit; the fused kernel runs the whole list over a block that
/// stays in L1 before moving on, instead of one pass over memory per op. The op is picked by a switch on
/// an enum once per block and op (a block is <see cref="Fast.ElementwiseChainKernel.Block"/> elements), which
/// keeps the dispatch cheap next to the vector work.
/// </summary>
internal static class ElementwiseChainProgram
{
    public static readonly HashSet<string> Binary = ["Add", "Sub", "Mul", "Div", "Max", "Min"];

    public static readonly HashSet<string> Unary =
        ["Relu", "LeakyRelu", "Sigmoid", "Tanh", "Exp", "Log", "Erf", "Neg", "Abs", "Sqrt", "Reciprocal", "Clip", "HardSigmoid", "HardSwish"];

    /// <summary>The steps of a fused node, from its attributes <c>ops</c>, <c>operands</c>, <c>swap</c>, <c>alpha</c>, <c>beta</c>.</summary>
    public static ChainStep[] Parse(Node node, Func<string, Exception> fail)
    {
        var ops = node.GetAttribute("ops")?.AsStrings() ?? throw fail("attribute 'ops' is missing");
        var operands = node.GetInts("operands") ?? throw fail("attribute 'operands' is missing");
        var swap = node.GetInts("swap") ?? throw fail("attribute 'swap' is missing");
        var alpha = node.GetFloats("alpha") ?? throw fail("attribute 'alpha' is missing");
        var beta = node.GetFloats("beta") ?? throw fail("attribute 'beta' is missing");
        int n = ops.Length;
        if (n == 0 || operands.Length != n || swap.Length != n || alpha.Length != n || beta.Length != n)
            throw fail($"attributes ops, operands, swap, alpha and beta must have one entry per op ({n})");
        var steps = new ChainStep[n];
        for (int i = 0; i < n; i++)
        {
            if (!Binary.Contains(ops[i]) && !Unary.Contains(ops[i])) throw fail($"op {i} '{ops[i]}' is not one a chain can run");
            int operand = (int)operands[i];
            if (operand < -1 || operand >= node.Inputs.Length || (operand >= 0 && !Binary.Contains(ops[i])))
                throw fail($"op {i} ({ops[i]}) has operand {operand}, not an input of a binary op (or -1)");
            steps[i] = new ChainStep(Enum.Parse<ChainOp>(ops[i]), operand, swap[i] != 0, alpha[i], beta[i]);
        }
        return steps;
    }

    /// <summary>y = step(x[, other]) over x's length; y must not overlap x (the vector loops' tails re-read x).</summary>
    public static void Apply(in ChainStep s, ReadOnlySpan<float> x, ReadOnlySpan<float> other, Span<float> y)
    {
        switch (s.Op)
        {
            case ChainOp.Add: Bin(new VectorOps.Add<float>(), s, x, other, y); break;
            case ChainOp.Sub: Bin(new VectorOps.Sub<float>(), s, x, other, y); break;
            case ChainOp.Mul: Bin(new VectorOps.Mul<float>(), s, x, other, y); break;
            case ChainOp.Div: Bin(new VectorOps.Div<float>(), s, x, other, y); break;
            case ChainOp.Max: Bin(new VectorOps.Max<float>(), s, x, other, y); break;
            case ChainOp.Min: Bin(new VectorOps.Min<float>(), s, x, other, y); break;
            case ChainOp.Relu: ElementwiseVectorLoops.Map(new VectorOps.Relu<float>(), x, y); break;
            case ChainOp.LeakyRelu: ElementwiseVectorLoops.Map(new VectorOps.LeakyRelu<float>(s.A), x, y); break;
            case ChainOp.Sigmoid: ElementwiseVectorLoops.Map(new VectorMathOps.Sigmoid(), x, y); break;
            case ChainOp.Tanh: ElementwiseVectorLoops.Map(new VectorMathOps.Tanh(), x, y); break;
            case ChainOp.Exp: ElementwiseVectorLoops.Map(new VectorMathOps.Exp(), x, y); break;
            case ChainOp.Log: ElementwiseVectorLoops.Map(new VectorMathOps.Log(), x, y); break;
            case ChainOp.Erf: ElementwiseVectorLoops.Map(new VectorMathOps.Erf(), x, y); break;
            case ChainOp.Neg: ElementwiseVectorLoops.Map(new VectorOps.Neg<float>(), x, y); break;
            case ChainOp.Abs: ElementwiseVectorLoops.Map(new VectorOps.Abs<float>(), x, y); break;
            case ChainOp.Sqrt: ElementwiseVectorLoops.Map(new VectorOps.Sqrt<float>(), x, y); break;
            case ChainOp.Reciprocal: ElementwiseVectorLoops.Map(new VectorOps.Reciprocal<float>(), x, y); break;
            case ChainOp.Clip: ElementwiseVectorLoops.Map(new VectorOps.Clip<float>(s.A, s.B), x, y); break;
            case ChainOp.HardSigmoid: ElementwiseVectorLoops.Map(new VectorOps.HardSigmoid<float>(s.A, s.B), x, y); break;
            case ChainOp.HardSwish: ElementwiseVectorLoops.Map(new VectorOps.HardSwish<float>(), x, y); break;
            default: throw new InvalidOperationException($"unknown chain op {s.Op}"); // Parse admits none
        }
    }

    private static void Bin<TOp>(TOp op, in ChainStep s, ReadOnlySpan<float> x, ReadOnlySpan<float> other, Span<float> y)
        where TOp : struct, IVectorBinaryOp<float>
    {
        if (s.Operand >= 0)
        {
            if (s.Swap) ElementwiseVectorLoops.Zip(op, other, x, y);
            else ElementwiseVectorLoops.Zip(op, x, other, y);
        }
        else if (s.Swap) ElementwiseVectorLoops.Map(new VectorOps.BindLeft<TOp, float>(op, s.A), x, y);
        else ElementwiseVectorLoops.Map(new VectorOps.BindRight<TOp, float>(op, s.A), x, y);
    }
}
