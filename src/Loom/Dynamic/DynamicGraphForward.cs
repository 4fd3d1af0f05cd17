using System.Numerics.Tensors;
using Loom.Dynamic.Batching;
using Loom.Kernels.Batched;

namespace Loom.Dynamic;

/// <summary>What one forward did: batched kernel calls, ED-Batch's lower bound (when asked for) and bytes copied.</summary>
public sealed record ForwardStats(int Nodes, int KernelCalls, int LowerBound, long BytesCopied);

public sealed unsafe partial class DynamicGraph
{
    private float[]? _values;
    private nint[] _ptr = [];
    private nint[] _rows = [];

    public ForwardStats? LastStats { get; private set; }

    /// <summary>When set, every batch of the next forwards is recorded on it.</summary>
    public BatchTrace? Trace { get; set; }

    /// <summary>
    /// Runs every node, batched by <paramref name="policy"/>. A batch's outputs are allocated side by side in
    /// execution order, so a batched GEMM writes its result rows in place; operands are gathered by pointer.
    /// </summary>
    public void Forward(BatchingPolicy policy = BatchingPolicy.Agenda, bool lowerBound = false, FsmPolicy? fsm = null)
    {
        var shape = new GraphShape(this);
        var batches = Schedulers.Schedule(this, shape, policy, fsm);
        _values = GC.AllocateUninitializedArray<float>((int)TotalFloats + 16, pinned: true);
        if (_ptr.Length < Nodes.Count) _ptr = new nint[Math.Max(Nodes.Count, _ptr.Length * 2)];
        long cursor = 0, copied = 0;
        fixed (float* arena = _values)
        {
            foreach (var batch in batches)
            {
                var first = Nodes[batch[0]];
                float* out_ = arena + cursor;
                if (first.Kind is not (PrimKind.Lookup or PrimKind.Slice)) cursor += (long)first.Dim * batch.Length;
                long t0 = Trace?.Now() ?? 0;
                copied += RunBatch(batch, out_);
                Trace?.Add(first.Kind.ToString(), t0, Trace.Now(), batch.Length);
            }
        }
        LastStats = new ForwardStats(Nodes.Count, batches.Count, lowerBound ? shape.LowerBound(this) : 0, copied * sizeof(float));
    }

    /// <summary>The value of <paramref name="x"/> after <see cref="Forward"/>.</summary>
    public ReadOnlySpan<float> Value(Expr x)
    {
        if (_values is null) throw new GraphException("the graph has not been run since it last changed; call Forward first");
        return new ReadOnlySpan<float>((float*)_ptr[x.Id], Nodes[x.Id].Dim);
    }

    private float* P(int node) => (float*)_ptr[node];

    /// <summary>Runs one batch into <paramref name="out_"/> (rows of the batch's size, side by side); returns floats copied.</summary>
    private long RunBatch(int[] batch, float* out_)
    {
        var first = Nodes[batch[0]];
        int m = batch.Length, dim = first.Dim;
        if (first.Kind == PrimKind.Lookup)
        {
            // Zero copy: the node's value is the table's row.
            var table = (LookupParameter)Param(batch[0], 0);
            foreach (int n in batch) _ptr[n] = (nint)table.Row(Nodes[n].Aux);
            return 0;
        }
        if (first.Kind == PrimKind.Slice)
        {
            // Zero copy: an output of a cell call is a view into the call's row.
            foreach (int n in batch) _ptr[n] = (nint)(P(InputsOf(n)[0]) + Nodes[n].Aux);
            return 0;
        }
        for (int i = 0; i < m; i++) _ptr[batch[i]] = (nint)(out_ + (long)i * dim);
        switch (first.Kind)
        {
            case PrimKind.Call: return RunCells(batch, out_);
            case PrimKind.Affine: Affine(batch, out_); return 0;
            case PrimKind.Concat:
                foreach (int n in batch)
                {
                    float* dst = P(n);
                    foreach (int x in InputsOf(n))
                    {
                        int d = Nodes[x].Dim;
                        new ReadOnlySpan<float>(P(x), d).CopyTo(new Span<float>(dst, d));
                        dst += d;
                    }
                }
                return (long)m * dim;
            case PrimKind.PickNegLogSoftmax:
                foreach (int n in batch) *P(n) = NegLogSoftmax(Param(n, 0), P(InputsOf(n)[0]), Nodes[n].Aux);
                return 0;
        }
        foreach (int n in batch)
        {
            var ins = InputsOf(n);
            var o = new Span<float>(P(n), dim);
            var a0 = new ReadOnlySpan<float>(P(ins[0]), dim);
            var a1 = ins.Length > 1 ? new ReadOnlySpan<float>(P(ins[1]), dim) : default;
            switch (first.Kind)
            {
                case PrimKind.Logistic: TensorPrimitives.Sigmoid(a0, o); break;
                case PrimKind.Tanh: TensorPrimitives.Tanh(a0, o); break;
                case PrimKind.OneMinus: TensorPrimitives.Subtract(1f, a0, o); break;
                case PrimKind.Mul: TensorPrimitives.Multiply(a0, a1, o); break;
                case PrimKind.Add: TensorPrimitives.Add(a0, a1, o); break;
                case PrimKind.Sub: TensorPrimitives.Subtract(a0, a1, o); break;
                case PrimKind.Sum:
                    if (ins.Length == 1) { a0.CopyTo(o); break; }
                    TensorPrimitives.Add(a0, a1, o);
                    for (int k = 2; k < ins.Length; k++) TensorPrimitives.Add(o, new ReadOnlySpan<float>(P(ins[k]), dim), o);
                    break;
                default: throw new InvalidOperationException($"no kernel for {first.Kind}");
            }
        }
        return 0;
    }

    /// <summary>One GEMM per term over the whole batch (rows gathered by pointer), then the bias.</summary>
    private void Affine(int[] batch, float* out_)
    {
        int m = batch.Length, n0 = batch[0], dim = Nodes[n0].Dim;
        bool bias = Nodes[n0].HasBias;
        int terms = Nodes[n0].InCount;
        if (_rows.Length < m) _rows = GC.AllocateArray<nint>(Math.Max(m, _rows.Length * 2), pinned: true);
        fixed (nint* rows = _rows)
        {
            for (int j = 0; j < terms; j++)
            {
                var w = Param(n0, (bias ? 1 : 0) + j);
                for (int i = 0; i < m; i++) rows[i] = _ptr[InputsOf(batch[i])[j]];
                BatchedGemm.Multiply(m, dim, w.Cols, (float**)rows, w.PackedTransposed(), out_, dim, accumulate: j > 0);
            }
        }
        if (bias)
        {
            var b = new ReadOnlySpan<float>(Param(n0, 0).Value, 0, dim);
            for (int i = 0; i < m; i++)
            {
                var row = new Span<float>(out_ + (long)i * dim, dim);
                TensorPrimitives.Add(row, b, row);
            }
        }
    }

    /// <summary><c>log Σ exp(z) − z[label]</c> for <c>z = W h</c>, with the maximum subtracted first.</summary>
    internal static float NegLogSoftmax(Parameter w, float* h, int label)
    {
        int classes = w.Rows, dim = w.Cols;
        Span<float> z = stackalloc float[classes];
        var hs = new ReadOnlySpan<float>(h, dim);
        for (int r = 0; r < classes; r++) z[r] = TensorPrimitives.Dot(new ReadOnlySpan<float>(w.Value, r * dim, dim), hs);
        float max = TensorPrimitives.Max(z);
        double sum = 0;
        for (int r = 0; r < classes; r++) sum += Math.Exp(z[r] - max);
        return (float)(Math.Log(sum) + max - z[label]);
    }
}
