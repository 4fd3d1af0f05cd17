using Loom.Kernels.Batched;
using Loom.Runtime;
using Loom.Runtime.Threading;

namespace Loom.Dynamic.Compiled;

/// <summary>
/// The inference forward through <see cref="TreeLstmFused"/> (H a multiple of 32, AVX-512). Here every batch writes
/// its rows' h and c into rows of its own (the leaves one row per distinct word, a level one row per node,
/// contiguous), and a parent reaches its children through pointers: each level gathers its <c>[h_l; h_r]</c>
/// rows straight into the micro-kernel's 8-row tiles (8×8 register transposes from eight row pointers) and its
/// gate pass reads c_l and c_r where the children left them. So no leaf's (h, c) is copied into its parent's row,
/// and the gate pass writes 8 consecutive rows per tile instead of 8 scattered parent rows.
/// </summary>
public sealed unsafe partial class StaticTreeLstm
{
    // Huge-page backed: the gate pass and the gathers touch scattered rows of these megabytes.
    private HugePageBuffer? _hOut, _cOut, _packedLevel, _packedLeaves, _fLeafH, _fLeafC;
    private nint[] _children = [];

    private bool UseFused(bool keep) => !keep && TreeLstmFused.Supports(_m.Hidden);

    private float ForwardFused(TreePlan p, bool everyNode, int parts)
    {
        int hd = _m.Hidden, blocks = hd / TreeLstmFused.Block;
        _w.RefreshFused();
        int widest = 0;
        for (int l = 0; l < p.Levels; l++) widest = Math.Max(widest, p.LevelStart[l + 1] - p.LevelStart[l]);
        float* packed = HugePageBuffer.Grow(ref _packedLevel, (long)(widest + 7) / 8 * 8 * 2 * hd);
        float* packedLeaves = HugePageBuffer.Grow(ref _packedLeaves, (long)(p.Unique + 7) / 8 * 8 * hd);
        float* hOut = HugePageBuffer.Grow(ref _hOut, (long)p.Rows * hd), cOut = HugePageBuffer.Grow(ref _cOut, (long)p.Rows * hd);
        float* lh = HugePageBuffer.Grow(ref _fLeafH, (long)p.Unique * hd), lc = HugePageBuffer.Grow(ref _fLeafC, (long)p.Unique * hd);
        if (_children.Length < 4 * p.Rows) _children = GC.AllocateArray<nint>(Math.Max(4 * p.Rows, 2 * _children.Length), pinned: true);
        double loss = 0;
        fixed (float* rh = _rootH, rc = _rootC, lb = _w.LeafBiasFused, nb = _w.NodeBiasFused, rowLoss = _rowLoss, pw = _m.Wout.Value)
        fixed (nint* children = _children)
        {
            // Per row: where its left and right child's h and c are (a leaf's distinct-word row or a node's own row).
            float** hl = (float**)children, hr = hl + p.Rows, cl = hr + p.Rows, cr = cl + p.Rows;
            for (int r = 0; r < p.Rows; r++) Link(p.RowDest[r], hOut + (long)r * hd, cOut + (long)r * hd, hl, hr, cl, cr);
            for (int i = 0; i < p.Leaves; i++)
                Link(p.LeafDest[i], lh + (long)p.LeafUnique[i] * hd, lc + (long)p.LeafUnique[i] * hd, hl, hr, cl, cr);

            float** rows = (float**)NativeRows(p.Unique);
            for (int u = 0; u < p.Unique; u++) rows[u] = _m.Embedding.Row(p.UniqueWord[u]);
            var leafJob = new FusedLeafJob
            {
                Hd = hd, Count = p.Unique, Blocks = blocks, Parts = parts, Rows = rows, Packed = packedLeaves, W = _w.LeafFused, Bias = lb, H = lh, C = lc,
            };
            long t0 = Trace?.Now() ?? 0;
            if (parts > 1)
            {
                // Every part reads all the leaves' packed rows, so they are packed first.
                PackSplit(parts, p.Unique, (long)p.Unique * 3 * hd * hd, new PackJob { Leaves = leafJob, Count = p.Unique });
                SplitHidden(parts, (long)p.Unique * 3 * hd * hd, leafJob);
            }
            else Split(p.Unique, leafJob);
            Trace?.Add("leaves: fused GEMM + gates", t0, Trace.Now(), p.Unique);
            var job = new FusedLevelJob { Hd = hd, Blocks = blocks, Parts = parts, W = _w.NodeFused, Bias = nb, Packed = packed };
            for (int l = 0; l < p.Levels; l++)
            {
                int r0 = p.LevelStart[l];
                job.Count = p.LevelStart[l + 1] - r0;
                job.Hl = hl + r0; job.Hr = hr + r0; job.Cl = cl + r0; job.Cr = cr + r0;
                job.H = hOut + (long)r0 * hd; job.C = cOut + (long)r0 * hd;
                t0 = Trace?.Now() ?? 0;
                if (parts > 1)
                {
                    PackSplit(parts, job.Count, (long)job.Count * 8 * hd * hd, new PackJob { Level = job, Count = job.Count });
                    SplitHidden(parts, (long)job.Count * 8 * hd * hd, job);
                }
                else Split(job.Count, job);
                Trace?.Add($"level {l + 2}: fused GEMM + gates", t0, Trace.Now(), job.Count);
            }

            t0 = Trace?.Now() ?? 0;
            for (int i = 0; i < p.Leaves; i++)
            {
                int slot = p.LeafDest[i];
                float* h = lh + (long)p.LeafUnique[i] * hd;
                if (everyNode || slot < 0) loss += SoftmaxOutput.Loss(hd, pw, h, p.LeafLabel[i]);
                if (slot < 0) ToRoot(hd, -slot - 1, h, lc + (long)p.LeafUnique[i] * hd, rh, rc);
            }
            Split(p.Rows, new FusedLossJob { Plan = p, Hd = hd, Count = p.Rows, H = hOut, RowLoss = rowLoss, WoutPtr = pw, EveryNode = everyNode });
            for (int r = 0; r < p.Rows; r++)
            {
                loss += rowLoss[r];
                if (p.RowDest[r] < 0) ToRoot(hd, -p.RowDest[r] - 1, hOut + (long)r * hd, cOut + (long)r * hd, rh, rc);
            }
            Trace?.Add("losses", t0, Trace.Now(), p.Rows);
        }
        KernelCalls = 1 + p.Levels + 1;
        CellBatches = 1 + p.Levels;
        CellLowerBound = 1 + p.Levels;
        BytesCopied = (long)p.Trees * 2 * hd * sizeof(float);
        return (float)loss;
    }

    /// <summary>
    /// Before a batch split by hidden units, which every part reads whole: its rows gathered into tiles, the tiles
    /// shared out over the pool when the batch is large enough to be split at all (else on this thread).
    /// </summary>
    private void PackSplit(int parts, int count, long multiplyAdds, PackJob job)
    {
        job.Parts = parts;
        if (_pool is not null && multiplyAdds >= MinMultiplyAddsToSplit && count >= 8 * parts) _pool.Run(parts, job);
        else { job.Parts = 1; job.Execute(0); }
    }

    /// <summary>Tiles [t·T/Parts, …) of the leaves' or a level's packed rows.</summary>
    private struct PackJob : IParallelJob
    {
        public FusedLeafJob Leaves;
        public FusedLevelJob Level;
        public int Count, Parts;

        public readonly void Execute(int part)
        {
            int tiles = (Count + 7) / 8, i0 = part * tiles / Parts * 8, i1 = Math.Min(Count, (part + 1) * tiles / Parts * 8);
            if (i1 <= i0) return;
            if (Leaves.Rows != null) Leaves.PackRows(i0, i1);
            else TreeLstmFused.PackPairs(Level.Hl, Level.Hr, i0, i1, Level.Hd, Level.Packed);
        }
    }

    /// <summary>Records that a child whose output is (h, c) fills <paramref name="slot"/> of its parent (nothing for a root).</summary>
    private static void Link(int slot, float* h, float* c, float** hl, float** hr, float** cl, float** cr)
    {
        if (slot < 0) return;
        int parent = slot >> 1;
        if ((slot & 1) == 0) { hl[parent] = h; cl[parent] = c; }
        else { hr[parent] = h; cr[parent] = c; }
    }

    private static void ToRoot(int hd, int tree, float* h, float* c, float* rootH, float* rootC)
    {
        Buffer.MemoryCopy(h, rootH + (long)tree * hd, hd * 4, hd * 4);
        Buffer.MemoryCopy(c, rootC + (long)tree * hd, hd * 4, hd * 4);
    }

    /// <summary>
    /// One level: with one part, rows [part·Chunk, …) (gathered by the part itself) and every block; with several,
    /// every row (gathered before) and blocks [t·Blocks/Parts, …).
    /// </summary>
    private struct FusedLevelJob : IParallelJob, IChunked
    {
        public int Hd, Count, Blocks, Parts;
        public int Chunk { get; set; }
        public float* Packed, W, Bias, H, C;
        public float** Hl, Hr, Cl, Cr;

        public readonly void Execute(int part)
        {
            int i0 = Parts == 1 ? part * Chunk : 0, i1 = Parts == 1 ? Math.Min(Count, i0 + Chunk) : Count;
            int b0 = Parts == 1 ? 0 : part * Blocks / Parts, b1 = Parts == 1 ? Blocks : (part + 1) * Blocks / Parts;
            if (Parts == 1) TreeLstmFused.PackPairs(Hl, Hr, i0, i1, Hd, Packed);
            TreeLstmFused.Level(Hd, Packed, i0, i1, b0, b1, W, Bias, Cl, Cr, H, C);
        }
    }

    /// <summary>The leaf batch, split like <see cref="FusedLevelJob"/>.</summary>
    private struct FusedLeafJob : IParallelJob, IChunked
    {
        public int Hd, Count, Blocks, Parts;
        public int Chunk { get; set; }
        public float** Rows;
        public float* Packed, W, Bias, H, C;

        public readonly void Execute(int part)
        {
            int i0 = Parts == 1 ? part * Chunk : 0, i1 = Parts == 1 ? Math.Min(Count, i0 + Chunk) : Count;
            int b0 = Parts == 1 ? 0 : part * Blocks / Parts, b1 = Parts == 1 ? Blocks : (part + 1) * Blocks / Parts;
            if (Parts == 1) PackRows(i0, i1);
            TreeLstmFused.Leaf(Hd, Packed, i0, i1, b0, b1, W, Bias, H, C);
        }

        /// <summary>The embedding rows of leaves [i0, i1) (i0 a multiple of 8) into the packed tiles.</summary>
        public readonly void PackRows(int i0, int i1)
        {
            if (i1 > i0) new GemmRowsA(Rows).Pack(Packed + (long)i0 * Hd, i0, i1 - i0, 0, Hd, TreeLstmFused.Rows);
        }
    }

    /// <summary>Rows [part·Chunk, …): each row's output loss (when it has one), from the row's own h.</summary>
    private struct FusedLossJob : IParallelJob, IChunked
    {
        public TreePlan Plan;
        public int Hd, Count;
        public int Chunk { get; set; }
        public float* H, RowLoss, WoutPtr;
        public bool EveryNode;

        public readonly void Execute(int part)
        {
            int r0 = part * Chunk, r1 = Math.Min(Count, r0 + Chunk);
            for (int row = r0; row < r1; row++)
                RowLoss[row] = EveryNode || Plan.RowDest[row] < 0 ? SoftmaxOutput.Loss(Hd, WoutPtr, H + (long)row * Hd, Plan.RowLabel[row]) : 0;
        }
    }
}
