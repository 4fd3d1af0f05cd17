using Loom.Kernels.Batched;
using Loom.Runtime.Threading;

namespace Loom.Dynamic.Compiled;

/// <summary>
/// The inference forward through <see cref="TreeLstmFused"/> (H a multiple of 32, AVX-512): every level's rows are
/// kept in the micro-kernel's packed layout (8-row tiles, <c>[k][8]</c> over <c>[h_l; h_r]</c>), written there by
/// the children's gate pass, so a level reads its operand without a packing pass; the plain rows (h into the
/// parent's <c>x</c> row, c into its <c>cx</c> row) are still written for the losses and the children's c.
/// </summary>
public sealed unsafe partial class StaticTreeLstm
{
    private float[] _packedRows = [], _packedLeaves = [];
    private int[] _rowQ = [], _levelQ = [];

    private bool UseFused(bool keep) => !keep && TreeLstmFused.Supports(_m.Hidden);

    private float ForwardFused(TreePlan p, bool everyNode, int parts)
    {
        int hd = _m.Hidden, blocks = hd / TreeLstmFused.Block;
        _w.RefreshFused();
        // Padded numbering: each level's rows start on a whole tile of the packed operand.
        if (_levelQ.Length < p.Levels + 1) _levelQ = new int[p.Levels + 1];
        if (_rowQ.Length < p.Rows) _rowQ = new int[Math.Max(p.Rows, 2 * _rowQ.Length)];
        int q = 0;
        for (int l = 0; l < p.Levels; l++)
        {
            _levelQ[l] = q;
            for (int r = p.LevelStart[l]; r < p.LevelStart[l + 1]; r++) _rowQ[r] = q++;
            q = (q + 7) & ~7;
        }
        _levelQ[p.Levels] = q;
        GrowZeroed(ref _packedRows, (long)q * 2 * hd + 16);
        int leafTiles = (p.Unique + 7) / 8;
        GrowZeroed(ref _packedLeaves, (long)leafTiles * 8 * hd + 16);
        double loss = 0;
        var wout = _m.Wout;
        fixed (float* x = _x, cx = _cx, lh = _leafH, lc = _leafC, rh = _rootH, rc = _rootC, pr = _packedRows, pl = _packedLeaves)
        fixed (float* lb = _w.LeafBiasFused, nb = _w.NodeBiasFused, rowLoss = _rowLoss, pw = wout.Value)
        fixed (int* rowQ = _rowQ)
        {
            float* aRows = Kernels.Common.GemmScratch.AlignedPointer(_packedRows), aLeaves = Kernels.Common.GemmScratch.AlignedPointer(_packedLeaves);
            float** rows = (float**)NativeRows(p.Unique);
            for (int u = 0; u < p.Unique; u++) rows[u] = _m.Embedding.Row(p.UniqueWord[u]);
            var leafJob = new FusedLeafJob
            {
                Hd = hd, Count = p.Unique, Blocks = blocks, Parts = parts, Rows = rows, Packed = aLeaves, W = _w.LeafFused, Bias = lb,
                H = lh, C = lc, Plan = p, X = x, Cx = cx, RootH = rh, RootC = rc, PackedRows = aRows, RowQ = rowQ,
            };
            long t0 = Trace?.Now() ?? 0;
            // Every part reads all the leaves' packed rows: they are packed first (split by tiles on the pool).
            if (parts > 1 && _pool is not null && p.Unique >= 64) _pool.Run(parts, new PackLeavesJob { Job = leafJob, Parts = parts });
            else new PackLeavesJob { Job = leafJob, Parts = 1 }.Execute(0);
            if (parts > 1) SplitHidden(parts, (long)p.Unique * 3 * hd * hd, leafJob);
            else
            {
                Split(p.Unique, leafJob);
                leafJob.CopyToParents(0, hd);
            }
            Trace?.Add("leaves: fused GEMM + gates", t0, Trace.Now(), p.Unique);
            for (int i = 0; i < p.Leaves; i++)
                if (everyNode || p.LeafDest[i] < 0)
                    loss += SoftmaxOutput.Loss(hd, pw, lh + (long)p.LeafUnique[i] * hd, p.LeafLabel[i]);
            var job = new FusedLevelJob
            {
                Hd = hd, Blocks = blocks, Parts = parts, W = _w.NodeFused, Bias = nb,
                Dest = new RowDestination { Plan = p, Hd = hd, X = x, Cx = cx, RootH = rh, RootC = rc, PackedRows = aRows, RowQ = rowQ },
            };
            for (int l = 0; l < p.Levels; l++)
            {
                job.Count = p.LevelStart[l + 1] - p.LevelStart[l];
                job.Dest.R0 = p.LevelStart[l];
                job.A = aRows + (long)_levelQ[l] * 2 * hd;
                t0 = Trace?.Now() ?? 0;
                if (parts > 1) SplitHidden(parts, (long)job.Count * 8 * hd * hd, job);
                else Split(job.Count, job);
                Trace?.Add($"level {l + 2}: fused GEMM + gates", t0, Trace.Now(), job.Count);
            }
            Split(p.Rows, new LossJob { Plan = p, Hd = hd, Count = p.Rows, X = x, RootH = rh, RowLoss = rowLoss, WoutPtr = pw, EveryNode = everyNode });
            for (int r = 0; r < p.Rows; r++) loss += rowLoss[r];
        }
        KernelCalls = 1 + p.Levels + 1;
        CellBatches = 1 + p.Levels;
        CellLowerBound = 1 + p.Levels;
        BytesCopied = (long)p.Leaves * 2 * hd * sizeof(float);
        return (float)loss;
    }

    private static void GrowZeroed(ref float[] a, long n)
    {
        if (a.Length < n) a = GC.AllocateArray<float>((int)Math.Max(n, 2L * a.Length), pinned: true);
    }

    /// <summary>
    /// Where a level row's h and c go: the parent's x and cx rows (or the root outputs), and h also into the
    /// parent's packed row, transposed into its tile's <c>[k][8]</c> layout.
    /// </summary>
    private struct RowDestination : TreeLstmFused.INodeDestination
    {
        public TreePlan Plan;
        public int Hd, R0;
        public float* X, Cx, RootH, RootC, PackedRows;
        public int* RowQ;

        public readonly void Node(int row, int j0, out float* cl, out float* h, out float* c)
        {
            int global = R0 + row;
            Dest(Plan.RowDest[global], X, Cx, RootH, RootC, Hd, out h, out c);
            h += j0; c += j0;
            cl = Cx + (long)global * 2 * Hd + j0;
        }

        public readonly void Done(int row, int j0, float* h) => ToParent(Plan.RowDest[R0 + row], j0, TreeLstmFused.Block, h);

        /// <summary>Units [j0, j0 + n) of h into the packed row of the parent that <paramref name="slot"/> names (none for a root).</summary>
        public readonly void ToParent(int slot, int j0, int n, float* h)
        {
            if (slot < 0) return;
            int hd = Hd;
            float* d = PackedRows + TreeLstmFused.PackedRow(RowQ[slot >> 1], 2 * hd) + (long)((slot & 1) * hd + j0) * TreeLstmFused.Rows;
            for (int j = 0; j < n; j++) d[(long)j * TreeLstmFused.Rows] = h[j];
        }
    }

    /// <summary>One level: rows [part·Chunk, …) and every block with one part, else every row and blocks [t·Blocks/Parts, …).</summary>
    private struct FusedLevelJob : IParallelJob, IChunked
    {
        public int Hd, Count, Blocks, Parts;
        public int Chunk { get; set; }
        public float* A, W, Bias;
        public RowDestination Dest;

        public readonly void Execute(int part)
        {
            int i0 = Parts == 1 ? part * Chunk : 0, i1 = Parts == 1 ? Math.Min(Count, i0 + Chunk) : Count;
            int b0 = Parts == 1 ? 0 : part * Blocks / Parts, b1 = Parts == 1 ? Blocks : (part + 1) * Blocks / Parts;
            var dest = Dest;
            TreeLstmFused.Level(Hd, A, i0, i1, b0, b1, W, Bias, ref dest);
        }
    }

    /// <summary>
    /// The leaf batch, split like <see cref="FusedLevelJob"/>; with several parts, part t also copies its units of each
    /// leaf's (h, c) into the parent's rows (no thread waits for another before the first level).
    /// </summary>
    private struct FusedLeafJob : IParallelJob, IChunked
    {
        public int Hd, Count, Blocks, Parts;
        public int Chunk { get; set; }
        public float** Rows;
        public float* Packed, W, Bias, H, C, X, Cx, RootH, RootC, PackedRows;
        public int* RowQ;
        public TreePlan Plan;

        public readonly void Execute(int part)
        {
            int i0 = Parts == 1 ? part * Chunk : 0, i1 = Parts == 1 ? Math.Min(Count, i0 + Chunk) : Count;
            int b0 = Parts == 1 ? 0 : part * Blocks / Parts, b1 = Parts == 1 ? Blocks : (part + 1) * Blocks / Parts;
            TreeLstmFused.Leaf(Hd, Packed, i0, i1, b0, b1, W, Bias, H, C);
            if (Parts > 1) CopyToParents(b0 * TreeLstmFused.Block, (b1 - b0) * TreeLstmFused.Block);
        }

        /// <summary>Units [a, a + w) of every leaf's (h, c) into its parent's rows and packed row (after all leaf rows are done).</summary>
        public readonly void CopyToParents(int a, int w)
        {
            var p = Plan;
            var dest = new RowDestination { Plan = p, Hd = Hd, X = X, Cx = Cx, RootH = RootH, RootC = RootC, PackedRows = PackedRows, RowQ = RowQ };
            for (int i = 0; i < p.Leaves; i++)
            {
                long src = (long)p.LeafUnique[i] * Hd + a;
                int slot = p.LeafDest[i];
                Dest(slot, X, Cx, RootH, RootC, Hd, out float* dh, out float* dc);
                Buffer.MemoryCopy(H + src, dh + a, w * 4, w * 4);
                Buffer.MemoryCopy(C + src, dc + a, w * 4, w * 4);
                dest.ToParent(slot, a, w, H + src);
            }
        }
    }

    /// <summary>Packs the leaves' embedding rows into 8-row tiles of depth H, tiles [t·T/Parts, …) per part.</summary>
    private struct PackLeavesJob : IParallelJob
    {
        public FusedLeafJob Job;
        public int Parts;

        public readonly void Execute(int part)
        {
            int tiles = (Job.Count + 7) / 8, t0 = part * tiles / Parts, t1 = (part + 1) * tiles / Parts;
            if (t1 <= t0) return;
            int r0 = t0 * 8, r1 = Math.Min(Job.Count, t1 * 8);
            new GemmRowsA(Job.Rows).Pack(Job.Packed + (long)r0 * Job.Hd, r0, r1 - r0, 0, Job.Hd, 8);
        }
    }
}
