using Loom.Dynamic.Models;
using Loom.Kernels.Batched;
using Loom.Kernels.Common;

namespace Loom.Dynamic.Compiled;

/// <summary>
/// The TreeLSTM's matrices regrouped for level-batched GEMMs, so each level is two calls instead of eight
/// matrix-vector products per node. Internal-node gate rows are laid out <c>[f_l | i | o | u | f_r]</c>: the left
/// children's GEMM writes columns 0..4H (U_f1 and the left halves of U_i, U_o, U_u), the right children's GEMM
/// adds columns H..5H (right halves and U_f2), so no zero blocks are multiplied. Rebuilt when a parameter changes.
/// With <c>parts</c> &gt; 1 the hidden units are cut into equal ranges and the columns (and the biases) are ordered
/// part by part, <c>[part 0: f_l | i | o | u | f_r][part 1: …]</c>: each thread then multiplies only its own
/// contiguous columns (half the weights' memory traffic each) and owns the gates of its hidden units.
/// </summary>
internal sealed unsafe class TreeLstmWeights
{
    private readonly TreeLstm _m;
    private int _stamp = -1, _parts;

    public TreeLstmWeights(TreeLstm model) => _m = model;

    public GemmPackedB Leaf { get; private set; } = null!;
    public GemmPackedB Left { get; private set; } = null!;
    public GemmPackedB Right { get; private set; } = null!;
    /// <summary>The transposes (K = blocks·H, N = H), for the backward pass: dx = dz · Bᵀ.</summary>
    public GemmPackedB LeafT { get; private set; } = null!;
    public GemmPackedB LeftT { get; private set; } = null!;
    public GemmPackedB RightT { get; private set; } = null!;

    public (Parameter W, int Col0)[] LeafBlocks => [(_m.Wi, 0), (_m.Wo, 0), (_m.Wu, 0)];
    public (Parameter W, int Col0)[] LeftBlocks => [(_m.Uf1, 0), (_m.Ui, 0), (_m.Uo, 0), (_m.Uu, 0)];
    public (Parameter W, int Col0)[] RightBlocks => [(_m.Ui, _m.Hidden), (_m.Uo, _m.Hidden), (_m.Uu, _m.Hidden), (_m.Uf2, 0)];

    /// <summary>Adds a gradient in packed layout (dB[k, g·H + j], H × blocks·H) to the parameters' gradients.</summary>
    public static void AddPackedGrad(int h, (Parameter W, int Col0)[] blocks, float[] gb)
    {
        int n = blocks.Length * h;
        for (int g = 0; g < blocks.Length; g++)
        {
            var (w, col0) = blocks[g];
            var grad = w.Grad;
            for (int j = 0; j < h; j++)
                for (int k = 0; k < h; k++) grad[j * w.Cols + col0 + k] += gb[k * n + g * h + j];
        }
    }
    /// <summary>[b_i | b_o | b_u] and [b_f | b_i | b_o | b_u | b_f].</summary>
    public float[] LeafBias { get; private set; } = [];
    public float[] NodeBias { get; private set; } = [];

    /// <summary>Hidden-unit parts of the packed forward matrices (1: the plain layout the backward pass reads).</summary>
    public int Parts => _parts;

    public void Refresh(int parts = 1)
    {
        int stamp = Stamp();
        if (stamp == _stamp && parts == _parts && Leaf is not null) return;
        int h = _m.Hidden;
        if (stamp != _stamp || LeafT is null)
        {
            LeafT = PackTransposed(h, LeafBlocks);
            LeftT = PackTransposed(h, LeftBlocks);
            RightT = PackTransposed(h, RightBlocks);
        }
        Leaf = Pack(h, parts, LeafBlocks);
        Left = Pack(h, parts, LeftBlocks);
        Right = Pack(h, parts, RightBlocks);
        NodeBias = Biases(h, parts, [_m.Bf.Value, _m.Bi.Value, _m.Bo.Value, _m.Bu.Value, _m.Bf.Value]);
        LeafBias = Biases(h, parts, [_m.Bi.Value, _m.Bo.Value, _m.Bu.Value]);
        _stamp = stamp;
        _parts = parts;
    }

    private int Stamp()
    {
        int stamp = 0;
        foreach (var p in _m.Parameters.All) stamp = stamp * 31 + p.Version;
        return stamp;
    }

    private int _fusedStamp = -1;
    private Runtime.HugePageBuffer? _nodeFused, _leafFused;

    /// <summary>The forward matrices in <see cref="TreeLstmFused"/>'s layout (64-byte aligned; valid until the next refresh).</summary>
    public float* NodeFused { get; private set; }
    public float* LeafFused { get; private set; }
    /// <summary>The biases per block of 32 hidden units: [b_f | b_i | b_o | b_u | b_f] and [b_i | b_o | b_u].</summary>
    public float[] NodeBiasFused { get; private set; } = [];
    public float[] LeafBiasFused { get; private set; } = [];

    /// <summary>Packs the forward matrices for <see cref="TreeLstmFused"/> (H a multiple of 32) when a parameter changed.</summary>
    public void RefreshFused()
    {
        int stamp = Stamp();
        if (stamp == _fusedStamp && NodeFused != null) return;
        int h = _m.Hidden, blocks = h / TreeLstmFused.Block;
        NodeFused = PackFused(h, ref _nodeFused, [(_m.Uf1, 0, h), (_m.Ui, 0, 2 * h), (_m.Uo, 0, 2 * h), (_m.Uu, 0, 2 * h), (_m.Uf2, 0, h)]);
        LeafFused = PackFused(h, ref _leafFused, [(_m.Wi, 0, h), (_m.Wo, 0, h), (_m.Wu, 0, h)]);
        NodeBiasFused = Biases(h, blocks, [_m.Bf.Value, _m.Bi.Value, _m.Bo.Value, _m.Bu.Value, _m.Bf.Value]);
        LeafBiasFused = Biases(h, blocks, [_m.Bi.Value, _m.Bo.Value, _m.Bu.Value]);
        _fusedStamp = stamp;
    }

    /// <summary>
    /// Per block of 32 hidden units j0.., per gate g: a panel B[k·32 + j'] = W_g[j0 + j', col0 + k] over the gate's
    /// depth (k &lt; depth), gates one after another, blocks one after another.
    /// </summary>
    private static float* PackFused(int h, ref Runtime.HugePageBuffer? store, (Parameter W, int Col0, int Depth)[] gates)
    {
        const int nr = TreeLstmFused.Block;
        int depth = gates.Sum(g => g.Depth);
        long n = (long)h * depth;
        float* b = Runtime.HugePageBuffer.Grow(ref store, n);
        float* d = b;
        for (int j0 = 0; j0 < h; j0 += nr)
            foreach (var (w, col0, dep) in gates)
            {
                var v = w.Value;
                for (int k = 0; k < dep; k++)
                    for (int j = 0; j < nr; j++) *d++ = v[(j0 + j) * w.Cols + col0 + k];
            }
        return b;
    }

    /// <summary>The bias blocks in the gate-row layout: part t's hidden range of every block, part by part.</summary>
    private static float[] Biases(int h, int parts, float[][] blocks)
    {
        int w = h / parts;
        var b = GC.AllocateArray<float>(blocks.Length * h, pinned: true);
        for (int t = 0; t < parts; t++)
            for (int g = 0; g < blocks.Length; g++) Array.Copy(blocks[g], t * w, b, t * blocks.Length * w + g * w, w);
        return b;
    }

    /// <summary>Bᵀ[g·H + j, k] = W_g[j, col0 + k]: the blocks stacked (K = blocks·H, N = H).</summary>
    private static GemmPackedB PackTransposed(int h, (Parameter W, int Col0)[] blocks)
    {
        var b = new float[blocks.Length * h * h];
        for (int g = 0; g < blocks.Length; g++)
        {
            var (w, col0) = blocks[g];
            for (int j = 0; j < h; j++)
                for (int k = 0; k < h; k++) b[(g * h + j) * h + k] = w.Value[j * w.Cols + col0 + k];
        }
        fixed (float* pb = b) return new GemmPackedB(GemmKernelSet.Best, blocks.Length * h, h, pb, h, transposed: false);
    }

    /// <summary>
    /// B[k, t·blocks·w + g·w + j'] = W_g[t·w + j', col0 + k] with w = H / parts: the blocks' transposes side by side
    /// (K = H), part by part; with one part simply B[k, g·H + j].
    /// </summary>
    private static GemmPackedB Pack(int h, int parts, (Parameter W, int Col0)[] blocks)
    {
        int n = blocks.Length * h, pw = h / parts;
        var b = new float[h * n];
        for (int g = 0; g < blocks.Length; g++)
        {
            var (w, col0) = blocks[g];
            for (int j = 0; j < h; j++)
            {
                int col = j / pw * blocks.Length * pw + g * pw + j % pw;
                for (int k = 0; k < h; k++) b[k * n + col] = w.Value[j * w.Cols + col0 + k];
            }
        }
        fixed (float* pb = b) return new GemmPackedB(GemmKernelSet.Best, h, n, pb, n, transposed: false);
    }
}
