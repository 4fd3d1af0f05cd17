using Loom.IR;

namespace Loom.Kernels.Common;

/// <summary>
/// NumPy matmul shapes: a 1-D A is a row [1, K] and a 1-D B a column [K, 1] (the added dim is dropped
/// from the output); the leading (batch) dims broadcast. Gives, per output batch, where its A and B
/// matrices start.
/// </summary>
internal sealed class MatMulShape
{
    public required int M { get; init; }
    public required int N { get; init; }
    public required int K { get; init; }
    public required int[] OutputShape { get; init; }
    public required int[] AOffsets { get; init; }
    public required int[] BOffsets { get; init; }

    public int BatchCount => AOffsets.Length;

    /// <summary>True when every batch uses the same B (B has no batch dims): the batches then stack into one taller A.</summary>
    public bool SharedB { get; private init; }

    public static MatMulShape Create(ReadOnlySpan<int> a, ReadOnlySpan<int> b, Func<string, Exception> fail)
    {
        if (a.Length == 0 || b.Length == 0) throw fail("MatMul inputs must have at least one dimension");
        int m = a.Length == 1 ? 1 : a[^2], ka = a[^1];
        int kb = b.Length == 1 ? b[0] : b[^2], n = b.Length == 1 ? 1 : b[^1];
        if (ka != kb) throw fail($"shapes {ShapeMath.Format(a)} and {ShapeMath.Format(b)} cannot be multiplied ({ka} vs {kb})");
        var aBatch = a.Length > 2 ? a[..^2].ToArray() : [];
        var bBatch = b.Length > 2 ? b[..^2].ToArray() : [];
        int[] batch;
        try { batch = ShapeMath.Broadcast(aBatch, bBatch); }
        catch (ShapeException) { throw fail($"batch dims of {ShapeMath.Format(a)} and {ShapeMath.Format(b)} cannot be broadcast"); }
        var output = new List<int>(batch);
        if (a.Length > 1) output.Add(m);
        if (b.Length > 1) output.Add(n);
        int count = (int)ShapeMath.Size(batch);
        var aOff = new int[count];
        var bOff = new int[count];
        var aStrides = BatchStrides(aBatch, batch.Length, m * ka);
        var bStrides = BatchStrides(bBatch, batch.Length, kb * n);
        var index = new int[batch.Length];
        for (int i = 0; i < count; i++)
        {
            int ao = 0, bo = 0;
            for (int d = 0; d < batch.Length; d++) { ao += index[d] * aStrides[d]; bo += index[d] * bStrides[d]; }
            aOff[i] = ao;
            bOff[i] = bo;
            for (int d = batch.Length - 1; d >= 0 && ++index[d] == batch[d]; d--) index[d] = 0;
        }
        return new MatMulShape
        {
            M = m, N = n, K = ka, OutputShape = output.ToArray(), AOffsets = aOff, BOffsets = bOff,
            SharedB = ShapeMath.Size(bBatch) == 1 && ShapeMath.Size(aBatch) == count,
        };
    }

    /// <summary>Element strides of a batch shape aligned right to <paramref name="rank"/> dims, 0 where broadcast.</summary>
    private static int[] BatchStrides(int[] dims, int rank, int matrixSize)
    {
        var s = new int[rank];
        int acc = matrixSize;
        for (int d = rank - 1; d >= 0; d--)
        {
            int sd = d - (rank - dims.Length);
            int size = sd >= 0 ? dims[sd] : 1;
            s[d] = size == 1 ? 0 : acc;
            acc *= size;
        }
        return s;
    }

    /// <summary>The output shape over symbolic dims (null when a rank is unknown).</summary>
    public static Shape? OutputDims(Func<Shape?[], Shape?> broadcast, Shape? a, Shape? b, Func<string, Exception> fail)
    {
        if (a is null || b is null) return null;
        if (a.Rank == 0 || b.Rank == 0) throw fail("MatMul inputs must have at least one dimension");
        Dim ka = a[a.Rank - 1], kb = b.Rank == 1 ? b[0] : b[b.Rank - 2];
        if (ka.IsKnown && kb.IsKnown && ka != kb) throw fail($"shapes {a} and {b} cannot be multiplied ({ka} vs {kb})");
        var batch = broadcast([new Shape(a.Dims.Take(Math.Max(0, a.Rank - 2))), new Shape(b.Dims.Take(Math.Max(0, b.Rank - 2)))])!;
        var dims = new List<Dim>(batch.Dims);
        if (a.Rank > 1) dims.Add(a[a.Rank - 2]);
        if (b.Rank > 1) dims.Add(b[b.Rank - 1]);
        return new Shape(dims);
    }
}
