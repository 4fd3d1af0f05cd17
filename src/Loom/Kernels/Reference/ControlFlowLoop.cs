using Loom.IR;
using Loom.Runtime;
using static Loom.Kernels.Reference.ControlFlowKernels;

namespace Loom.Kernels.Reference;

/// <summary>
/// Loop: runs the body while the trip count (input M, if given) is not reached and the condition holds.
/// The body gets (iteration, cond, carried…) and returns (cond, carried…, scan outputs…); carried values
/// may change shape between iterations, scan outputs are stacked along a new axis 0. As in ONNX Runtime,
/// the body's condition output is obeyed even when the cond input is omitted.
/// </summary>
internal static class ControlFlowLoop
{
    public static Kernel Create(KernelInfo info)
    {
        var body = info.CompileSubgraph(Body(info, "body"));
        int carried = Math.Max(0, info.Node.Inputs.Length - 2);
        var g = body.Graph;
        if (g.Inputs.Length != carried + 2)
            throw info.Fail($"the body has {g.Inputs.Length} inputs; a Loop with {carried} loop-carried values needs {carried + 2}");
        int scans = g.Outputs.Length - 1 - carried;
        if (scans < 0 || info.Node.Outputs.Length > carried + scans)
            throw info.Fail($"the body's {g.Outputs.Length} outputs do not match {carried} loop-carried values and {info.Node.Outputs.Length} Loop outputs");
        var wrapAs = g.Inputs.Skip(2).Select(i => (i.Type as OptionalType)?.Element).ToArray();
        var scanTypes = g.Outputs.Skip(1 + carried).Select(o => g.TypeOf(o.Name)).ToArray();
        return new LoopKernel(body, carried, wrapAs, scanTypes);
    }

    /// <param name="wrapAs">For each carried value, the element type when the body takes it as an optional.</param>
    /// <param name="scanTypes">Inferred per-iteration types of the scan outputs (for a loop that runs zero times).</param>
    private sealed class LoopKernel(CompiledGraph body, int carried, IrType?[] wrapAs, IrType?[] scanTypes) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            long tripCount = ctx.HasInput(0) ? ScalarLong(ctx, ctx.InputValue(0), "M (the trip count)") : long.MaxValue;
            bool cond = !ctx.HasInput(1) || ScalarBool(ctx, ctx.InputValue(1), "cond");
            var state = new LoomValue?[carried];
            for (int i = 0; i < carried; i++) state[i] = ctx.InputValue(2 + i) ?? throw ctx.Fail($"loop-carried input {i} is missing");
            var parts = new List<Tensor>[scanTypes.Length];
            for (int k = 0; k < parts.Length; k++) parts[k] = new List<Tensor>();

            var inputs = new LoomValue?[carried + 2];
            for (long iteration = 0; iteration < tripCount && cond; iteration++)
            {
                ctx.Cancellation.ThrowIfCancellationRequested();
                inputs[0] = Tensor.Scalar(iteration);
                inputs[1] = Tensor.Scalar(cond);
                for (int i = 0; i < carried; i++) inputs[2 + i] = Wrap(state[i]!, wrapAs[i]);
                var outputs = ctx.RunSubgraph(body, inputs);
                cond = ScalarBool(ctx, outputs[0], "the body's condition output");
                for (int i = 0; i < carried; i++) state[i] = outputs[1 + i];
                for (int k = 0; k < parts.Length; k++)
                    parts[k].Add(IterationTensor(ctx, outputs[1 + carried + k], parts[k].FirstOrDefault(), $"scan output {k}"));
            }

            for (int i = 0; i < carried; i++) ctx.SetOutput(i, state[i]!);
            for (int k = 0; k < parts.Length && carried + k < ctx.OutputCount; k++)
            {
                var (dt, dims) = parts[k].Count > 0
                    ? (parts[k][0].DataType, parts[k][0].Shape.ToArray())
                    : EmptyIterationShape(ctx, scanTypes[k], DataType.Float);
                StackOutput(ctx, carried + k, parts[k], 0, prepend: false, dt, dims);
            }
        }

        /// <summary>A body input declared optional gets an optional, even if the carried value is a plain one.</summary>
        private static LoomValue Wrap(LoomValue value, IrType? optionalElement) =>
            optionalElement is not null && value is not OptionalValue ? new OptionalValue(optionalElement, value) : value;
    }
}
