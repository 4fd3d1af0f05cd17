using Loom.IR;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>
/// SequenceMap: runs the body once per position of the input sequences (all of one length); the body
/// gets that position's element of each sequence input and every tensor input whole, and each body
/// output is collected into an output sequence.
/// </summary>
[KernelRegistrations]
internal static class SequenceMapKernel
{
    public static void Register(KernelRegistry r) => r.Add("SequenceMap", Create, 17);

    private static Kernel Create(KernelInfo info)
    {
        var body = info.CompileSubgraph(ControlFlowKernels.Body(info, "body"));
        if (body.Graph.Inputs.Length != info.Node.Inputs.Length)
            throw info.Fail($"the body has {body.Graph.Inputs.Length} inputs; SequenceMap has {info.Node.Inputs.Length}");
        if (body.Graph.Outputs.Length < info.Node.Outputs.Length)
            throw info.Fail($"the body has {body.Graph.Outputs.Length} outputs; SequenceMap has {info.Node.Outputs.Length}");
        // The dtype of each output sequence, needed when the input sequences are empty.
        var dtypes = Enumerable.Range(0, info.Node.Outputs.Length)
            .Select(i => (info.OutputTypes[i] as SequenceType)?.Element is TensorType { ElementType: var dt } && dt != DataType.Undefined ? dt : DataType.Float)
            .ToArray();
        return new MapKernel(body, dtypes);
    }

    private sealed class MapKernel(CompiledGraph body, DataType[] dtypes) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            int count = SequenceKernels.InputSequence(ctx, 0).Count;
            for (int i = 1; i < ctx.InputCount; i++)
                if (ctx.InputValue(i) is TensorSequence s && s.Count != count)
                    throw ctx.Fail($"input {i} has {s.Count} elements but input 0 has {count}; sequence inputs must have one length");
            var results = new List<Tensor>[dtypes.Length];
            for (int k = 0; k < results.Length; k++) results[k] = new List<Tensor>(count);
            var inputs = new LoomValue?[ctx.InputCount];
            for (int n = 0; n < count; n++)
            {
                ctx.Cancellation.ThrowIfCancellationRequested();
                for (int i = 0; i < inputs.Length; i++)
                    inputs[i] = ctx.InputValue(i) is TensorSequence s ? s[n] : ctx.InputValue(i);
                var outputs = ctx.RunSubgraph(body, inputs);
                for (int k = 0; k < results.Length; k++)
                    results[k].Add(outputs[k] as Tensor ?? throw ctx.Fail($"body output {k} is {outputs[k].Type}; it must be a tensor"));
            }
            for (int k = 0; k < results.Length; k++)
                ctx.SetOutput(k, new TensorSequence(count > 0 ? results[k][0].DataType : dtypes[k], results[k]));
        }
    }
}
