using Loom.Dynamic.Cells;

namespace Loom.Dynamic;

public sealed unsafe partial class DynamicGraph
{
    /// <summary>The cells applied in this graph; a call node's Aux indexes it.</summary>
    internal readonly List<Cell> CellsUsed = [];
    private nint[] _cellArgs = [];

    /// <summary>
    /// Applies <paramref name="cell"/> to one instance's arguments: one node, batched with every other call of the
    /// same cell (ED-Batch's blocks), so a scheduler sees a handful of operation types instead of a dozen per cell.
    /// A cell with several outputs returns zero-copy views of its row.
    /// </summary>
    public Expr[] Apply(Cell cell, params Expr[] args)
    {
        ArgumentNullException.ThrowIfNull(cell);
        if (args.Length != cell.ArgDims.Length)
            throw new ShapeException($"cell '{cell.Name}' takes {cell.ArgDims.Length} arguments but was given {args.Length}");
        var ids = new int[args.Length];
        for (int i = 0; i < args.Length; i++)
        {
            Own(args[i]);
            int d = Nodes[args[i].Id].Dim;
            if (d != cell.ArgDims[i]) throw new ShapeException($"cell '{cell.Name}': argument {i + 1} must have {cell.ArgDims[i]} values but {args[i]} has {d}");
            ids[i] = args[i].Id;
        }
        int index = CellsUsed.IndexOf(cell);
        if (index < 0) { index = CellsUsed.Count; CellsUsed.Add(cell); }
        var dims = cell.OutputDims;
        var call = Add(new Node { Kind = PrimKind.Call, Dim = dims.Sum(), Aux = index }, ids, []);
        if (dims.Length == 1) return [call];
        var outs = new Expr[dims.Length];
        for (int k = 0, off = 0; k < dims.Length; off += dims[k], k++)
            outs[k] = Add(new Node { Kind = PrimKind.Slice, Dim = dims[k], Aux = off }, [call.Id], []);
        return outs;
    }

    /// <summary>A batch of calls of one cell: argument rows gathered by pointer, outputs side by side in each call's row.</summary>
    private long RunCells(int[] batch, float* out_)
    {
        var cell = CellsUsed[Nodes[batch[0]].Aux];
        int m = batch.Length, a = cell.ArgDims.Length;
        if (_cellArgs.Length < m * a) _cellArgs = GC.AllocateArray<nint>(Math.Max(m * a, _cellArgs.Length * 2), pinned: true);
        for (int i = 0; i < m; i++)
        {
            var ins = InputsOf(batch[i]);
            for (int j = 0; j < a; j++) _cellArgs[i * a + j] = _ptr[ins[j]];
        }
        fixed (nint* args = _cellArgs) return CellBatch.Run(cell.Program, m, (float**)args, out_, Nodes[batch[0]].Dim);
    }
}
