using Loom.Kernels.Batched;
using Loom.Kernels.Common;
using Loom.Runtime.Threading;

namespace Loom.Dynamic.Compiled;

/// <summary>The compiled forward's parallel jobs: the leaf batch, one level, and the losses after a hidden-unit split.</summary>
public sealed unsafe partial class StaticTreeLstm
{
    /// <summary>
    /// The leaf batch: GEMM against [W_i | W_o | W_u] and the fused leaf gates. With one hidden part, part p is rows
    /// [p·Chunk, …); with several, part t is hidden units [t·H/Parts, …) of every row, and it also copies that slice
    /// of each leaf's (h, c) into its parent's row (no thread waits for another before the first level).
    /// </summary>
    private struct LeafJob : IParallelJob, IChunked
    {
        public int Hd, Count, Parts;
        public int Chunk { get; set; }
        public float** Rows;
        public float* G, H, C, Bias, X, Cx, RootH, RootC;
        public GemmPackedB B;
        public TreePlan Plan;
        public bool Keep;

        public readonly void Execute(int part)
        {
            int hd = Hd;
            if (Parts == 1)
            {
                int u0 = part * Chunk, n = Math.Min(Chunk, Count - u0);
                BatchedGemm.Multiply(n, 3 * hd, hd, Rows + u0, B, G + (long)u0 * 3 * hd, 3 * hd, accumulate: false);
                for (int u = u0; u < u0 + n; u++)
                    TreeLstmGates.Leaf(hd, G + (long)u * 3 * hd, Bias, H + (long)u * hd, C + (long)u * hd, Keep);
                return;
            }
            int w = hd / Parts, a = part * w;
            BatchedGemm.Multiply(Count, 3 * w, hd, Rows, B, 3 * a, G + 3 * a, 3 * hd, accumulate: false);
            for (int u = 0; u < Count; u++)
                TreeLstmGates.Leaf(w, G + (long)u * 3 * hd + 3 * a, Bias + 3 * a, H + (long)u * hd + a, C + (long)u * hd + a, Keep);
            var p = Plan;
            for (int i = 0; i < p.Leaves; i++)
            {
                long src = (long)p.LeafUnique[i] * hd + a;
                Dest(p.LeafDest[i], X, Cx, RootH, RootC, hd, out float* dh, out float* dc);
                Buffer.MemoryCopy(H + src, dh + a, w * 4, w * 4);
                Buffer.MemoryCopy(C + src, dc + a, w * 4, w * 4);
            }
        }
    }

    /// <summary>Rows [part·Chunk, …): each row's output loss (when it has one), after a forward split by hidden units.</summary>
    private struct LossJob : IParallelJob, IChunked
    {
        public TreePlan Plan;
        public int Hd, Count;
        public int Chunk { get; set; }
        public float* X, RootH, RowLoss, WoutPtr;
        public bool EveryNode;

        public readonly void Execute(int part)
        {
            int r0 = part * Chunk, r1 = Math.Min(Count, r0 + Chunk);
            for (int row = r0; row < r1; row++)
            {
                int dest = Plan.RowDest[row];
                if (!EveryNode && dest >= 0) { RowLoss[row] = 0; continue; }
                Dest(dest, X, X, RootH, RootH, Hd, out float* h, out _);
                RowLoss[row] = SoftmaxOutput.Loss(Hd, WoutPtr, h, Plan.RowLabel[row]);
            }
        }
    }

    /// <summary>
    /// One level: two GEMMs and the fused gates into the parents' slots. With one hidden part, part p is rows
    /// [R0 + p·Chunk, …) and each row's loss is fused in; with several, part t is hidden units [t·H/Parts, …) of
    /// every row of the level (its own columns of the packed weights and gate rows), losses left to <see cref="LossJob"/>.
    /// </summary>
    private struct LevelJob : IParallelJob, IChunked
    {
        public TreePlan Plan;
        public int Hd, R0, Count, Parts;
        public int Chunk { get; set; }
        public float* X, Cx, G, RootH, RootC, Bias, RowLoss;
        public GemmPackedB Left, Right;
        public float* WoutPtr;
        public bool EveryNode, Keep;

        public readonly void Execute(int part)
        {
            int hd = Hd, first = Parts == 1 ? part * Chunk : 0, m = Parts == 1 ? Math.Min(Chunk, Count - first) : Count, r0 = R0 + first;
            int w = hd / Parts, c0 = Parts == 1 ? 0 : part * w;
            float* a = X + (long)r0 * 2 * hd, g = G + (long)first * 5 * hd + 5 * c0;
            // Gate columns of this part: [f_l | i | o | u | f_r], w each; the left GEMM writes the first four, the right adds the last four.
            for (int r = 0; r < m; r++) new Span<float>(g + (long)r * 5 * hd + 4 * w, w).Clear();
            StridedGemm.Multiply(m, 4 * w, hd, a, 2 * hd, Left, 4 * c0, g, 5 * hd, accumulate: false);
            StridedGemm.Multiply(m, 4 * w, hd, a + hd, 2 * hd, Right, 4 * c0, g + w, 5 * hd, accumulate: true);
            for (int r = 0; r < m; r++)
            {
                int row = r0 + r, dest = Plan.RowDest[row];
                Dest(dest, X, Cx, RootH, RootC, hd, out float* dh, out float* dc);
                float* cl = Cx + (long)row * 2 * hd + c0;
                TreeLstmGates.Node(w, g + (long)r * 5 * hd, Bias + 5 * c0, cl, cl + hd, dh + c0, dc + c0, Keep);
                if (Parts == 1) RowLoss[row] = EveryNode || dest < 0 ? SoftmaxOutput.Loss(hd, WoutPtr, dh, Plan.RowLabel[row]) : 0;
            }
        }
    }
}
