using System.Numerics.Tensors;
using Loom.Kernels.Batched;

namespace Loom.Dynamic.Cells;

/// <summary>
/// Runs a cell's primitives over a batch of instances: each affine is one GEMM per term over all instances (rows
/// gathered through pointers), each elementwise primitive one pass per row. Intermediates live in per-thread
/// scratch; a value the cell returns is written straight into its column block of the call's row.
/// </summary>
internal static unsafe class CellBatch
{
    /// <summary><paramref name="args"/>[i·A + a] is argument a of instance i; returns floats copied.</summary>
    public static long Run(CellProgram p, int m, float** args, float* out_, int outDim)
    {
        int nv = p.ValueCount, na = p.ArgCount;
        var layout = p.Layout;
        var scratch = CellScratch.ForThread;
        // Per value: base pointer and row stride (arguments are read through args instead); then one GEMM's row table.
        float** bases = scratch.Pointers(nv * 2 + m);
        long* strides = (long*)(bases + nv);
        float** rows = bases + nv * 2;
        float* t = scratch.Temp(checked(m * layout.TempPerRow));
        for (int v = na; v < nv; v++)
        {
            int k = layout.FirstOutput[v];
            if (k >= 0) { bases[v] = out_ + layout.OutputOffset[k]; strides[v] = outDim; continue; }
            bases[v] = t; strides[v] = layout.Padded[v];
            t += (long)m * layout.Padded[v];
        }
        long copied = 0;
        for (int o = 0; o < p.Ops.Count; o++)
        {
            var op = p.Ops[o];
            int v = na + o, dim = op.Dim;
            if (op.Kind == PrimKind.Affine)
            {
                for (int j = 0; j < op.Inputs.Length; j++)
                {
                    var w = op.Weights![j];
                    for (int i = 0; i < m; i++) rows[i] = R(op.Inputs[j], i, na, args, bases, strides);
                    BatchedGemm.Multiply(m, dim, w.Cols, rows, w.PackedTransposed(), bases[v], (int)strides[v], accumulate: j > 0);
                }
                if (op.Bias is { } b)
                    for (int i = 0; i < m; i++)
                    {
                        var r = new Span<float>(R(v, i, na, args, bases, strides), dim);
                        TensorPrimitives.Add(r, new ReadOnlySpan<float>(b.Value, 0, dim), r);
                    }
                continue;
            }
            for (int i = 0; i < m; i++)
            {
                var dst = new Span<float>(R(v, i, na, args, bases, strides), dim);
                switch (op.Kind)
                {
                    case PrimKind.Logistic: TensorPrimitives.Sigmoid(I(p, op, 0, i, na, args, bases, strides), dst); break;
                    case PrimKind.Tanh: TensorPrimitives.Tanh(I(p, op, 0, i, na, args, bases, strides), dst); break;
                    case PrimKind.OneMinus: TensorPrimitives.Subtract(1f, I(p, op, 0, i, na, args, bases, strides), dst); break;
                    case PrimKind.Mul: TensorPrimitives.Multiply(I(p, op, 0, i, na, args, bases, strides), I(p, op, 1, i, na, args, bases, strides), dst); break;
                    case PrimKind.Add: TensorPrimitives.Add(I(p, op, 0, i, na, args, bases, strides), I(p, op, 1, i, na, args, bases, strides), dst); break;
                    case PrimKind.Sub: TensorPrimitives.Subtract(I(p, op, 0, i, na, args, bases, strides), I(p, op, 1, i, na, args, bases, strides), dst); break;
                    case PrimKind.Sum:
                        TensorPrimitives.Add(I(p, op, 0, i, na, args, bases, strides), I(p, op, 1, i, na, args, bases, strides), dst);
                        for (int k = 2; k < op.Inputs.Length; k++) TensorPrimitives.Add(dst, I(p, op, k, i, na, args, bases, strides), dst);
                        break;
                    case PrimKind.Concat:
                        int at = 0;
                        for (int k = 0; k < op.Inputs.Length; k++) { I(p, op, k, i, na, args, bases, strides).CopyTo(dst[at..]); at += p.DimOf(op.Inputs[k]); }
                        copied += dim;
                        break;
                    default: throw new UnsupportedException($"cell '{p.Name}': {op.Kind} cannot run inside a cell");
                }
            }
        }
        // Outputs that are arguments or repeat an earlier output are copied into place.
        for (int k = 0; k < p.Outputs.Length; k++)
        {
            int v = p.Outputs[k];
            if (v >= na && layout.FirstOutput[v] == k) continue;
            int d = p.DimOf(v);
            for (int i = 0; i < m; i++) new ReadOnlySpan<float>(R(v, i, na, args, bases, strides), d).CopyTo(new Span<float>(out_ + (long)i * outDim + layout.OutputOffset[k], d));
            copied += (long)m * d;
        }
        return copied;
    }

    private static float* R(int v, int i, int na, float** args, float** bases, long* strides) =>
        v < na ? args[i * na + v] : bases[v] + i * strides[v];

    private static ReadOnlySpan<float> I(CellProgram p, PrimOp op, int k, int i, int na, float** args, float** bases, long* strides) =>
        new(R(op.Inputs[k], i, na, args, bases, strides), p.DimOf(op.Inputs[k]));
}

/// <summary>Where a cell's values go when a batch runs: outputs in the call's row, the rest in padded scratch rows.</summary>
internal sealed class CellLayout
{
    public CellLayout(CellProgram p)
    {
        int nv = p.ValueCount;
        FirstOutput = new int[nv];
        Array.Fill(FirstOutput, -1);
        OutputOffset = new int[p.Outputs.Length];
        Padded = new int[nv];
        for (int k = 0, off = 0; k < p.Outputs.Length; k++)
        {
            OutputOffset[k] = off;
            int v = p.Outputs[k];
            if (v >= p.ArgCount && FirstOutput[v] < 0) FirstOutput[v] = k;
            off += p.DimOf(v);
        }
        for (int v = p.ArgCount; v < nv; v++)
        {
            Padded[v] = (p.DimOf(v) + 15) & ~15;
            if (FirstOutput[v] < 0) TempPerRow += Padded[v];
        }
    }

    /// <summary>Per value: the output it is written to directly, or −1.</summary>
    public int[] FirstOutput { get; }
    public int[] OutputOffset { get; }
    public int[] Padded { get; }
    public int TempPerRow { get; }
}
