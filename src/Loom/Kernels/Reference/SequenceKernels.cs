using Loom.IR;
using Loom.Runtime;
using static Loom.Kernels.Reference.ControlFlowKernels;

namespace Loom.Kernels.Reference;

/// <summary>
/// SequenceEmpty, SequenceConstruct, SequenceInsert, SequenceErase, SequenceAt, SequenceLength.
/// Sequences are immutable, so every operator builds a new one sharing the element tensors.
/// Positions may be negative (counted from the back) as in ONNX.
/// </summary>
[KernelRegistrations]
internal static class SequenceKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("SequenceEmpty", info => new EmptyKernel(new TensorSequence((DataType)info.GetInt("dtype", (long)DataType.Float), [])), 11);
        r.Add("SequenceConstruct", _ => new ConstructKernel(), 11);
        r.Add("SequenceInsert", _ => new InsertKernel(), 11);
        r.Add("SequenceErase", _ => new EraseKernel(), 11);
        r.Add("SequenceAt", _ => new AtKernel(), 11);
        r.Add("SequenceLength", _ => new LengthKernel(), 11);
    }

    public static TensorSequence InputSequence(KernelContext ctx, int i) => ctx.InputValue(i) switch
    {
        TensorSequence s => s,
        OptionalValue { Value: TensorSequence s } => s,
        var v => throw ctx.Fail($"input {i} must be a sequence, not {v?.Type.ToString() ?? "missing"}"),
    };

    /// <summary>Normalises a position against a sequence of <paramref name="count"/> elements; <paramref name="last"/> is the largest valid one.</summary>
    private static int Position(KernelContext ctx, int input, int count, int last)
    {
        long p = ScalarLong(ctx, ctx.InputValue(input), "the position");
        long q = p < 0 ? p + count : p;
        if (q < 0 || q > last) throw ctx.Fail($"position {p} is out of range for a sequence of {count} elements");
        return (int)q;
    }

    private sealed class EmptyKernel(TensorSequence empty) : Kernel
    {
        public override void Run(KernelContext ctx) => ctx.SetOutput(0, empty);
    }

    private sealed class ConstructKernel : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var items = Enumerable.Range(0, ctx.InputCount).Select(ctx.Input).ToArray();
            if (items.Length == 0) throw ctx.Fail("SequenceConstruct needs at least one input");
            if (items.FirstOrDefault(t => t.DataType != items[0].DataType) is { } odd)
                throw ctx.Fail($"all inputs must have one dtype; {items[0].DataType.Name()} and {odd.DataType.Name()} differ");
            ctx.SetOutput(0, new TensorSequence(items[0].DataType, items));
        }
    }

    private sealed class InsertKernel : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var s = InputSequence(ctx, 0);
            var t = ctx.Input(1);
            if (t.DataType != s.ElementType) throw ctx.Fail($"cannot insert a {t.DataType.Name()} tensor into a sequence of {s.ElementType.Name()}");
            int at = ctx.HasInput(2) ? Position(ctx, 2, s.Count, s.Count) : s.Count;
            ctx.SetOutput(0, new TensorSequence(s.ElementType, s.Items.Insert(at, t)));
        }
    }

    private sealed class EraseKernel : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var s = InputSequence(ctx, 0);
            if (s.Count == 0) throw ctx.Fail("cannot erase from an empty sequence");
            int at = ctx.HasInput(1) ? Position(ctx, 1, s.Count, s.Count - 1) : s.Count - 1;
            ctx.SetOutput(0, new TensorSequence(s.ElementType, s.Items.RemoveAt(at)));
        }
    }

    private sealed class AtKernel : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var s = InputSequence(ctx, 0);
            ctx.SetOutput(0, s[Position(ctx, 1, s.Count, s.Count - 1)]);
        }
    }

    private sealed class LengthKernel : Kernel
    {
        public override void Run(KernelContext ctx) => ctx.SetOutput(0, Tensor.Scalar((long)InputSequence(ctx, 0).Count));
    }
}
