using Loom.Kernels.Batched;
using Loom.Runtime;
using Loom.Runtime.Threading;

namespace Loom.Dynamic.Compiled;

/// <summary>
/// The inference forward through <see cref="TreeLstmFused"/> (H a multiple of 32, AVX-512). Children write h and c
/// into their parent's rows as on the other path; each level then packs its contiguous <c>[h_l; h_r]</c> rows
/// into the micro-kernel's 8-row tiles (8×8 register transposes, about 0.3% of the level's time) and runs one
/// fused kernel. (Writing h straight into the parent's packed tile instead, 32 scattered stores per row and
/// block, cost more than the transposes.)
/// </summary>
public sealed unsafe partial class StaticTreeLstm
{
    // Huge-page backed: the gate pass reads and writes scattered rows of these megabytes.
    private HugePageBuffer? _fx, _fcx, _packedLevel, _packedLeaves, _fLeafH, _fLeafC;

    private bool UseFused(bool keep) => !keep && TreeLstmFused.Supports(_m.Hidden);

    private float ForwardFused(TreePlan p, bool everyNode, int parts)
    {
        int hd = _m.Hidden, blocks = hd / TreeLstmFused.Block;
        _w.RefreshFused();
        int widest = 0;
        for (int l = 0; l < p.Levels; l++) widest = Math.Max(widest, p.LevelStart[l + 1] - p.LevelStart[l]);
        float* packed = HugePageBuffer.Grow(ref _packedLevel, (long)(widest + 7) / 8 * 8 * 2 * hd);
        float* packedLeaves = HugePageBuffer.Grow(ref _packedLeaves, (long)(p.Unique + 7) / 8 * 8 * hd);
        float* x = HugePageBuffer.Grow(ref _fx, (long)p.Rows * 2 * hd), cx = HugePageBuffer.Grow(ref _fcx, (long)p.Rows * 2 * hd);
        float* lh = HugePageBuffer.Grow(ref _fLeafH, (long)p.Unique * hd), lc = HugePageBuffer.Grow(ref _fLeafC, (long)p.Unique * hd);
        double loss = 0;
        fixed (float* rh = _rootH, rc = _rootC, lb = _w.LeafBiasFused, nb = _w.NodeBiasFused, rowLoss = _rowLoss, pw = _m.Wout.Value)
        {
            float** rows = (float**)NativeRows(p.Unique);
            for (int u = 0; u < p.Unique; u++) rows[u] = _m.Embedding.Row(p.UniqueWord[u]);
            var leafJob = new FusedLeafJob
            {
                Hd = hd, Count = p.Unique, Blocks = blocks, Parts = parts, Rows = rows, Packed = packedLeaves, W = _w.LeafFused, Bias = lb,
                H = lh, C = lc, Plan = p, X = x, Cx = cx, RootH = rh, RootC = rc,
            };
            long t0 = Trace?.Now() ?? 0;
            if (parts > 1)
            {
                // Every part reads all the leaves' packed rows, so they are packed first.
                leafJob.PackRows(0, p.Unique);
                SplitHidden(parts, (long)p.Unique * 3 * hd * hd, leafJob);
            }
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
                Hd = hd, Blocks = blocks, Parts = parts, W = _w.NodeFused, Bias = nb, Packed = packed,
                Dest = new RowDestination { Plan = p, Hd = hd, X = x, Cx = cx, RootH = rh, RootC = rc },
            };
            for (int l = 0; l < p.Levels; l++)
            {
                job.Count = p.LevelStart[l + 1] - p.LevelStart[l];
                job.Dest.R0 = p.LevelStart[l];
                t0 = Trace?.Now() ?? 0;
                if (parts > 1)
                {
                    TreeLstmFused.Pack(x + (long)job.Dest.R0 * 2 * hd, 2 * hd, 0, job.Count, 2 * hd, packed);
                    SplitHidden(parts, (long)job.Count * 8 * hd * hd, job);
                }
                else Split(job.Count, job);
                Trace?.Add($"level {l + 2}: fused GEMM + gates", t0, Trace.Now(), job.Count);
            }
            t0 = Trace?.Now() ?? 0;
            Split(p.Rows, new LossJob { Plan = p, Hd = hd, Count = p.Rows, X = x, RootH = rh, RowLoss = rowLoss, WoutPtr = pw, EveryNode = everyNode });
            for (int r = 0; r < p.Rows; r++) loss += rowLoss[r];
            Trace?.Add("losses", t0, Trace.Now(), p.Rows);
        }
        KernelCalls = 1 + p.Levels + 1;
        CellBatches = 1 + p.Levels;
        CellLowerBound = 1 + p.Levels;
        BytesCopied = (long)p.Leaves * 2 * hd * sizeof(float);
        return (float)loss;
    }

    /// <summary>Where a level row's h and c go (the parent's x and cx rows, or the root outputs) and where its children's c are.</summary>
    private struct RowDestination : TreeLstmFused.INodeDestination
    {
        public TreePlan Plan;
        public int Hd, R0;
        public float* X, Cx, RootH, RootC;

        public readonly void Node(int row, int j0, out float* cl, out float* h, out float* c)
        {
            int global = R0 + row;
            Dest(Plan.RowDest[global], X, Cx, RootH, RootC, Hd, out h, out c);
            h += j0; c += j0;
            cl = Cx + (long)global * 2 * Hd + j0;
        }
    }

    /// <summary>
    /// One level: with one part, rows [part·Chunk, …) (packed by the part itself) and every block; with several,
    /// every row (packed before) and blocks [t·Blocks/Parts, …).
    /// </summary>
    private struct FusedLevelJob : IParallelJob, IChunked
    {
        public int Hd, Count, Blocks, Parts;
        public int Chunk { get; set; }
        public float* Packed, W, Bias;
        public RowDestination Dest;

        public readonly void Execute(int part)
        {
            int i0 = Parts == 1 ? part * Chunk : 0, i1 = Parts == 1 ? Math.Min(Count, i0 + Chunk) : Count;
            int b0 = Parts == 1 ? 0 : part * Blocks / Parts, b1 = Parts == 1 ? Blocks : (part + 1) * Blocks / Parts;
            if (Parts == 1) TreeLstmFused.Pack(Dest.X + (long)Dest.R0 * 2 * Hd, 2 * Hd, i0, i1, 2 * Hd, Packed);
            var dest = Dest;
            TreeLstmFused.Level(Hd, Packed, i0, i1, b0, b1, W, Bias, ref dest);
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
        public float* Packed, W, Bias, H, C, X, Cx, RootH, RootC;
        public TreePlan Plan;

        public readonly void Execute(int part)
        {
            int i0 = Parts == 1 ? part * Chunk : 0, i1 = Parts == 1 ? Math.Min(Count, i0 + Chunk) : Count;
            int b0 = Parts == 1 ? 0 : part * Blocks / Parts, b1 = Parts == 1 ? Blocks : (part + 1) * Blocks / Parts;
            if (Parts == 1) PackRows(i0, i1);
            TreeLstmFused.Leaf(Hd, Packed, i0, i1, b0, b1, W, Bias, H, C);
            if (Parts > 1) CopyToParents(b0 * TreeLstmFused.Block, (b1 - b0) * TreeLstmFused.Block);
        }

        /// <summary>The embedding rows of leaves [i0, i1) (i0 a multiple of 8) into the packed tiles.</summary>
        public readonly void PackRows(int i0, int i1)
        {
            if (i1 > i0) new GemmRowsA(Rows).Pack(Packed + (long)i0 * Hd, i0, i1 - i0, 0, Hd, TreeLstmFused.Rows);
        }

        /// <summary>Units [a, a + w) of every leaf's (h, c) into its parent's rows (after all leaf rows are done).</summary>
        public readonly void CopyToParents(int a, int w)
        {
            var p = Plan;
            for (int i = 0; i < p.Leaves; i++)
            {
                long src = (long)p.LeafUnique[i] * Hd + a;
                Dest(p.LeafDest[i], X, Cx, RootH, RootC, Hd, out float* dh, out float* dc);
                Buffer.MemoryCopy(H + src, dh + a, w * 4, w * 4);
                Buffer.MemoryCopy(C + src, dc + a, w * 4, w * 4);
            }
        }
    }
}
