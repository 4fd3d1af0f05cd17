using System.Numerics;
using Loom.Runtime;

namespace Loom.Kernels.Common;

/// <summary>Kernels shared by whole operator families: they read inputs, allocate the output and dispatch on dtype.</summary>
internal static class ElementwiseKernel
{
    public static ExecutionException Unsupported(KernelContext ctx, DataType t) =>
        ctx.Fail($"{ctx.Node.OpType} does not support {t.Name()} inputs");

    /// <summary>Both inputs of a binary op must share a dtype (ONNX's type constraint T).</summary>
    public static void CheckSameType(KernelContext ctx, Tensor a, Tensor b)
    {
        if (a.DataType != b.DataType)
            throw ctx.Fail($"inputs have different types ({a.DataType.Name()} and {b.DataType.Name()})");
    }
}

/// <summary>A float op (Exp, Sigmoid, Elu, ...) on float16, bfloat16, float32 and float64.</summary>
internal sealed class FloatUnaryKernel<TOp>(ActivationParams p) : Kernel where TOp : IFloatOp
{
    public FloatUnaryKernel() : this(default) { }

    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.AllocateOutput(0, x.DataType, x.Shape);
        if (ElementwiseTypes.IsHalfLike(x.DataType))
        {
            var r = new float[x.Length];
            ElementwiseLoops.Map(new FloatFunc<TOp, float>(p), ElementwiseTypes.Widen(x).AsReadOnlySpan<float>(), r);
            ElementwiseTypes.Narrow(r, y);
            return;
        }
        var v = new Visitor(x, y, p);
        if (!ElementwiseTypes.VisitFloat(x.DataType, ref v)) throw ElementwiseKernel.Unsupported(ctx, x.DataType);
    }

    private readonly struct Visitor(Tensor x, Tensor y, ActivationParams p) : IFloatVisitor
    {
        public void Visit<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
            ElementwiseLoops.Map(new FloatFunc<TOp, T>(p), x.AsReadOnlySpan<T>(), y.AsSpan<T>());
    }
}

/// <summary>A unary op on every number type (Abs, Neg, Sign, Relu).</summary>
internal sealed class NumberUnaryKernel<TOp> : Kernel where TOp : INumberOp
{
    public override void Run(KernelContext ctx)
    {
        var x = ctx.Input(0);
        var y = ctx.AllocateOutput(0, x.DataType, x.Shape);
        if (ElementwiseTypes.IsHalfLike(x.DataType))
        {
            var r = new float[x.Length];
            ElementwiseLoops.Map(new NumberFunc<TOp, float>(), ElementwiseTypes.Widen(x).AsReadOnlySpan<float>(), r);
            ElementwiseTypes.Narrow(r, y);
            return;
        }
        var v = new Visitor(x, y);
        if (!ElementwiseTypes.VisitNumber(x.DataType, ref v)) throw ElementwiseKernel.Unsupported(ctx, x.DataType);
    }

    private readonly struct Visitor(Tensor x, Tensor y) : INumberVisitor
    {
        public void Visit<T>() where T : unmanaged, INumber<T> =>
            ElementwiseLoops.Map(new NumberFunc<TOp, T>(), x.AsReadOnlySpan<T>(), y.AsSpan<T>());
    }
}

/// <summary>
/// A binary op on numbers with broadcasting (Add, Mul, Mod, PRelu, ...), and its variadic form (Sum,
/// Max, Min: a left fold). <paramref name="legacy"/> carries the opset 1..6 <c>broadcast</c>/<c>axis</c> attributes.
/// </summary>
internal sealed class BinaryNumberKernel<TOp>(LegacyBroadcast legacy = default) : Kernel where TOp : IBinaryNumberOp
{
    public override void Run(KernelContext ctx)
    {
        var inputs = VariadicInputs(ctx);
        if (inputs.Length == 1) { ctx.SetOutput(0, inputs[0]); return; }
        if (inputs.Length == 2) inputs[1] = legacy.Align(ctx, inputs[0], inputs[1]);
        var output = ctx.AllocateOutput(0, inputs[0].DataType, ElementwiseLoops.BroadcastShape(ctx, inputs));
        Fold(ctx, inputs, output);
    }

    /// <summary>The present inputs, all of one dtype.</summary>
    public static Tensor[] VariadicInputs(KernelContext ctx)
    {
        var inputs = Enumerable.Range(0, ctx.InputCount).Where(ctx.HasInput).Select(ctx.Input).ToArray();
        if (inputs.Length == 0) throw ctx.Fail("needs at least one input");
        foreach (var t in inputs) ElementwiseKernel.CheckSameType(ctx, inputs[0], t);
        return inputs;
    }

    /// <summary>output = op(...op(op(in0, in1), in2)..., inN), each step broadcast.</summary>
    public static void Fold(KernelContext ctx, Tensor[] inputs, Tensor output)
    {
        bool half = ElementwiseTypes.IsHalfLike(output.DataType);
        var acc = half ? ElementwiseTypes.Widen(inputs[0]) : inputs[0];
        for (int k = 1; k < inputs.Length; k++)
        {
            var b = half ? ElementwiseTypes.Widen(inputs[k]) : inputs[k];
            bool last = k == inputs.Length - 1;
            var target = last && !half ? output : Tensor.Zeros(acc.DataType, ElementwiseLoops.BroadcastShape(ctx, acc, b));
            Apply(ctx, acc, b, target);
            acc = target;
        }
        if (half) ElementwiseTypes.Narrow(acc.AsReadOnlySpan<float>(), output);
    }

    private static void Apply(KernelContext ctx, Tensor a, Tensor b, Tensor output)
    {
        var v = new Visitor(a, b, output);
        try
        {
            if (!ElementwiseTypes.VisitNumber(a.DataType, ref v)) throw ElementwiseKernel.Unsupported(ctx, a.DataType);
        }
        catch (DivideByZeroException)
        {
            throw ctx.Fail("integer division by zero");
        }
        catch (OverflowException)
        {
            throw ctx.Fail("integer overflow: the most negative value divided by -1");
        }
    }

    private readonly struct Visitor(Tensor a, Tensor b, Tensor output) : INumberVisitor
    {
        public void Visit<T>() where T : unmanaged, INumber<T> =>
            ElementwiseLoops.Broadcast<BinaryNumberFunc<TOp, T>, T, T, T>(default, a, b, output);
    }
}

/// <summary>A comparison with broadcasting, giving bool; with <paramref name="equality"/> also on bool and string (Equal).</summary>
internal sealed class ComparisonKernel<TOp>(bool equality = false, LegacyBroadcast legacy = default) : Kernel where TOp : IComparisonOp
{
    public override void Run(KernelContext ctx)
    {
        Tensor a = ctx.Input(0), b = ctx.Input(1);
        ElementwiseKernel.CheckSameType(ctx, a, b);
        b = legacy.Align(ctx, a, b);
        var output = ctx.AllocateOutput(0, DataType.Bool, ElementwiseLoops.BroadcastShape(ctx, a, b));
        if (ElementwiseTypes.IsHalfLike(a.DataType)) (a, b) = (ElementwiseTypes.Widen(a), ElementwiseTypes.Widen(b));
        if (equality && a.DataType == DataType.Bool)
            ElementwiseLoops.Broadcast<EqualsFunc<bool>, bool, bool, bool>(default, a, b, output);
        else if (equality && a.DataType == DataType.String)
            ElementwiseLoops.Broadcast<EqualsFunc<string>, string, string, bool>(default, a, b, output);
        else
        {
            var v = new Visitor(a, b, output);
            if (!ElementwiseTypes.VisitNumber(a.DataType, ref v)) throw ElementwiseKernel.Unsupported(ctx, a.DataType);
        }
    }

    private readonly struct EqualsFunc<T> : IBinaryFunc<T, T, bool> where T : IEquatable<T>
    {
        public bool Invoke(T x, T y) => x.Equals(y);
    }

    private readonly struct Visitor(Tensor a, Tensor b, Tensor output) : INumberVisitor
    {
        public void Visit<T>() where T : unmanaged, INumber<T> =>
            ElementwiseLoops.Broadcast<ComparisonFunc<TOp, T>, T, T, bool>(default, a, b, output);
    }
}

/// <summary>A binary op on integers with broadcasting (BitwiseAnd, BitShift, ...).</summary>
internal sealed class BinaryIntegerKernel<TOp> : Kernel where TOp : IBinaryIntegerOp
{
    public override void Run(KernelContext ctx)
    {
        Tensor a = ctx.Input(0), b = ctx.Input(1);
        ElementwiseKernel.CheckSameType(ctx, a, b);
        var output = ctx.AllocateOutput(0, a.DataType, ElementwiseLoops.BroadcastShape(ctx, a, b));
        var v = new Visitor(a, b, output);
        if (!ElementwiseTypes.VisitInteger(a.DataType, ref v)) throw ElementwiseKernel.Unsupported(ctx, a.DataType);
    }

    private readonly struct Visitor(Tensor a, Tensor b, Tensor output) : IIntegerVisitor
    {
        public void Visit<T>() where T : unmanaged, IBinaryInteger<T> =>
            ElementwiseLoops.Broadcast<BinaryIntegerFunc<TOp, T>, T, T, T>(default, a, b, output);
    }
}

/// <summary>And, Or, Xor on bool tensors with broadcasting.</summary>
internal sealed class LogicKernel<TOp>(LegacyBroadcast legacy = default) : Kernel where TOp : ILogicOp
{
    public override void Run(KernelContext ctx)
    {
        Tensor a = ctx.Input(0), b = ctx.Input(1);
        if (a.DataType != DataType.Bool || b.DataType != DataType.Bool) throw ctx.Fail($"needs bool inputs, got {a.DataType.Name()} and {b.DataType.Name()}");
        b = legacy.Align(ctx, a, b);
        var output = ctx.AllocateOutput(0, DataType.Bool, ElementwiseLoops.BroadcastShape(ctx, a, b));
        ElementwiseLoops.Broadcast<LogicFunc<TOp>, bool, bool, bool>(default, a, b, output);
    }
}
