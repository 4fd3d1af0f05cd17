using Loom.IR;
using Loom.Runtime;
using static Loom.Kernels.Common.SequenceTensorCopy;
using static Loom.Kernels.Reference.ControlFlowKernels;

namespace Loom.Kernels.Reference;

/// <summary>
/// Scan: runs the body once per index of the scan inputs' scan axis, threading state values through
/// and stacking the scan outputs. Opset 9+: per-input axes and directions, per-output axes and
/// directions. Opset 8: every input has a batch axis 0 (processed row by row), scan inputs scan axis
/// 1, an optional sequence_lens input limits each row, and the rest of each scan output is zeros.
/// </summary>
internal static class ControlFlowScan
{
    public static Kernel Create(KernelInfo info)
    {
        var body = info.CompileSubgraph(Body(info, "body"));
        int m = (int)info.GetInt("num_scan_inputs", -1);
        bool batched = info.Opset < 9;
        int first = batched ? 1 : 0;
        int states = info.Node.Inputs.Length - first - m;
        var g = body.Graph;
        if (m < 1 || states < 0 || g.Inputs.Length != states + m)
            throw info.Fail($"num_scan_inputs {m} does not fit {info.Node.Inputs.Length} inputs and a body of {g.Inputs.Length} inputs");
        int scans = g.Outputs.Length - states;
        if (scans < 0 || info.Node.Outputs.Length > states + scans)
            throw info.Fail($"the body's {g.Outputs.Length} outputs do not match {states} states and {info.Node.Outputs.Length} Scan outputs");

        long[] Ints(string name, int count) => info.GetInts(name) is { } v
            ? (v.Length == count ? v.ToArray() : throw info.Fail($"'{name}' has {v.Length} entries; expected {count}"))
            : new long[count];
        var scanTypes = g.Outputs.Skip(states).Select(o => g.TypeOf(o.Name)).ToArray();
        var layout = new Layout(states, m, scanTypes,
            Ints(batched ? "directions" : "scan_input_directions", m),
            batched ? new long[m] : Ints("scan_input_axes", m),
            batched ? new long[scans] : Ints("scan_output_directions", scans),
            batched ? new long[scans] : Ints("scan_output_axes", scans));
        return batched ? new Scan8Kernel(body, layout) : new Scan9Kernel(body, layout);
    }

    private sealed record Layout(int States, int ScanInputs, IrType?[] ScanTypes,
        long[] InputDirections, long[] InputAxes, long[] OutputDirections, long[] OutputAxes);

    /// <summary>
    /// One scan: <paramref name="length"/> iterations over <paramref name="scanInputs"/> (each with its scan
    /// axis); returns the final states and, per scan output, the per-iteration tensors in iteration order.
    /// </summary>
    private static (LoomValue[] States, List<Tensor>[] Parts) Iterate(KernelContext ctx, CompiledGraph body, Layout l,
        LoomValue[] states, Tensor[] scanInputs, int[] axes, int length)
    {
        var parts = new List<Tensor>[l.ScanTypes.Length];
        for (int k = 0; k < parts.Length; k++) parts[k] = new List<Tensor>(length);
        var inputs = new LoomValue?[l.States + l.ScanInputs];
        for (int t = 0; t < length; t++)
        {
            ctx.Cancellation.ThrowIfCancellationRequested();
            states.CopyTo(inputs, 0);
            for (int j = 0; j < l.ScanInputs; j++)
                inputs[l.States + j] = Slice(scanInputs[j], axes[j], l.InputDirections[j] == 1 ? length - 1 - t : t, 1, keepAxis: false);
            var outputs = ctx.RunSubgraph(body, inputs);
            Array.Copy(outputs, states, l.States);
            for (int k = 0; k < parts.Length; k++)
                parts[k].Add(IterationTensor(ctx, outputs[l.States + k], parts[k].FirstOrDefault(), $"scan output {k}"));
        }
        return (states, parts);
    }

    private static (DataType, int[]) ElementShape(KernelContext ctx, List<Tensor> parts, IrType? inferred) =>
        parts.Count > 0 ? (parts[0].DataType, parts[0].Shape.ToArray()) : EmptyIterationShape(ctx, inferred, DataType.Float);

    private sealed class Scan9Kernel(CompiledGraph body, Layout l) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var states = new LoomValue[l.States];
            for (int i = 0; i < l.States; i++) states[i] = ctx.InputValue(i) ?? throw ctx.Fail($"state input {i} is missing");
            var scanInputs = new Tensor[l.ScanInputs];
            var axes = new int[l.ScanInputs];
            int length = -1;
            for (int j = 0; j < l.ScanInputs; j++)
            {
                var x = scanInputs[j] = ctx.Input(l.States + j);
                if (x.Rank == 0) throw ctx.Fail($"scan input {j} is a scalar; it needs an axis to scan");
                axes[j] = Axis(ctx, l.InputAxes[j], x.Rank, "scan_input_axes entry");
                if (length >= 0 && x.Shape[axes[j]] != length)
                    throw ctx.Fail($"scan input {j} has {x.Shape[axes[j]]} entries along its scan axis; scan input 0 has {length}");
                length = x.Shape[axes[j]];
            }

            var (final, parts) = Iterate(ctx, body, l, states, scanInputs, axes, length);
            for (int i = 0; i < l.States; i++) ctx.SetOutput(i, final[i]);
            for (int k = 0; k < parts.Length && l.States + k < ctx.OutputCount; k++)
            {
                var (dt, dims) = ElementShape(ctx, parts[k], l.ScanTypes[k]);
                int axis = Axis(ctx, l.OutputAxes[k], dims.Length + 1, "scan_output_axes entry");
                StackOutput(ctx, l.States + k, parts[k], axis, prepend: l.OutputDirections[k] == 1, dt, dims);
            }
        }
    }

    private sealed class Scan8Kernel(CompiledGraph body, Layout l) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var inputs = Enumerable.Range(1, l.States + l.ScanInputs).Select(ctx.Input).ToArray();
            int batch = -1, maxLength = -1;
            for (int i = 0; i < inputs.Length; i++)
            {
                bool isScan = i >= l.States;
                if (inputs[i].Rank < (isScan ? 2 : 1)) throw ctx.Fail($"input {i + 1} of shape {ShapeMath.Format(inputs[i].Shape)} lacks the batch{(isScan ? " and sequence axes" : " axis")}");
                if (batch >= 0 && inputs[i].Shape[0] != batch) throw ctx.Fail($"input {i + 1} has batch size {inputs[i].Shape[0]}, others {batch}");
                batch = inputs[i].Shape[0];
                if (!isScan) continue;
                if (maxLength >= 0 && inputs[i].Shape[1] != maxLength) throw ctx.Fail($"input {i + 1} has sequence length {inputs[i].Shape[1]}, others {maxLength}");
                maxLength = inputs[i].Shape[1];
            }
            var lengths = SequenceLengths(ctx, batch, maxLength);

            var finals = new Tensor[batch][];
            var rows = new List<Tensor>[batch][];
            var axes = new int[l.ScanInputs]; // axis 0 of a batch row is the sequence axis
            for (int b = 0; b < batch; b++)
            {
                var states = new LoomValue[l.States];
                for (int i = 0; i < l.States; i++) states[i] = Slice(inputs[i], 0, b, 1, keepAxis: false);
                var scanRows = new Tensor[l.ScanInputs];
                for (int j = 0; j < l.ScanInputs; j++) scanRows[j] = Slice(Slice(inputs[l.States + j], 0, b, 1, keepAxis: false), 0, 0, lengths[b]);
                var (final, parts) = Iterate(ctx, body, l, states, scanRows, axes, lengths[b]);
                finals[b] = final.Select((v, i) => v as Tensor ?? throw ctx.Fail($"state {i} is {v.Type}; Scan states must be tensors")).ToArray();
                rows[b] = parts;
            }

            for (int i = 0; i < l.States; i++)
                StackRows(ctx, i, finals.Select(f => f[i]).ToList(), inputs[i].DataType, inputs[i].Shape[1..].ToArray());
            for (int k = 0; k < l.ScanTypes.Length && l.States + k < ctx.OutputCount; k++)
            {
                var (dt, dims) = ElementShape(ctx, rows.Select(r => r[k]).FirstOrDefault(p => p.Count > 0) ?? [], l.ScanTypes[k]);
                var result = ctx.AllocateOutput(l.States + k, dt, [batch, maxLength, .. dims]);
                for (int b = 0; b < batch; b++)
                {
                    var row = Slice(result, 0, b, 1); // a view: writes land in result; entries past the row's length stay zero
                    var target = row.Reshape([maxLength, .. dims]);
                    for (int t = 0; t < rows[b][k].Count; t++) CopyInto(target, 0, t, rows[b][k][t]);
                }
            }
        }

        private static int[] SequenceLengths(KernelContext ctx, int batch, int maxLength)
        {
            if (ctx.OptionalInput(0) is not { } lens) return Enumerable.Repeat(maxLength, batch).ToArray();
            if (lens.DataType != DataType.Int64 || lens.Length != batch)
                throw ctx.Fail($"sequence_lens must be int64 with one entry per batch row ({batch}), not {lens}");
            var span = lens.AsSpan<long>();
            var r = new int[batch];
            for (int b = 0; b < batch; b++)
            {
                if (span[b] < 0 || span[b] > maxLength) throw ctx.Fail($"sequence_lens[{b}] = {span[b]} is outside [0, {maxLength}]");
                r[b] = (int)span[b];
            }
            return r;
        }

        private static void StackRows(KernelContext ctx, int output, List<Tensor> rows, DataType dt, int[] rowDims)
        {
            if (rows.Count > 0) (dt, rowDims) = (rows[0].DataType, rows[0].Shape.ToArray());
            StackOutput(ctx, output, rows, 0, prepend: false, dt, rowDims);
        }
    }
}
