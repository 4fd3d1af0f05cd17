using Loom.Dynamic.Data;
using Loom.Kernels.Batched;
using Loom.Kernels.Common;

namespace Loom.Dynamic.Compiled;

/// <summary>
/// Training as the rival does it: losses at every labelled node, the backward pass, one plain SGD step. The
/// backward walks the forward's levels top down; per level, one fused pass turns (dh, dc) into gate gradients,
/// two GEMMs against the transposed weight blocks give the children's dh (written into the children's rows, the
/// same memory plan as the forward), and two GEMMs Xᵀ·dz accumulate the weight gradients.
/// </summary>
public sealed unsafe partial class StaticTreeLstm
{
    private float[] _dx = [], _dcx = [], _dz = [], _dRoot = [], _dLeafH = [], _dLeafC = [], _dzLeaf = [], _xLeaf = [], _dxLeaf = [];
    private float[] _gLeft = [], _gRight = [], _gLeaf = [], _gb5 = [], _gb3 = [], _tmpH = [];

    /// <summary>One training step on <paramref name="trees"/>: forward with node losses, backward, SGD. Returns the loss before the step.</summary>
    public float TrainStep(IReadOnlyList<SstTree> trees, float learningRate = 0.01f)
    {
        float loss = Forward(trees, everyNode: true, keep: true);
        Backward();
        _m.Parameters.SgdUpdate(learningRate);
        return loss;
    }

    /// <summary>Gradients of the last kept forward's summed node losses, added to the parameters' gradients.</summary>
    internal void Backward()
    {
        int hd = _m.Hidden;
        var p = _plan;
        Grow(ref _dx, p.Rows * 2 * hd); Grow(ref _dcx, p.Rows * 2 * hd);
        int widest = 0;
        for (int l = 0; l < p.Levels; l++) widest = Math.Max(widest, p.LevelStart[l + 1] - p.LevelStart[l]);
        Grow(ref _dz, Math.Max(widest, 1) * 5 * hd);
        Grow(ref _dLeafH, p.Unique * hd); Grow(ref _dLeafC, p.Unique * hd); Grow(ref _dzLeaf, p.Unique * 3 * hd);
        Grow(ref _xLeaf, p.Unique * hd); Grow(ref _dxLeaf, p.Unique * hd);
        Zeroed(ref _gLeft, hd * 4 * hd); Zeroed(ref _gRight, hd * 4 * hd); Zeroed(ref _gLeaf, hd * 3 * hd);
        Zeroed(ref _gb5, 5 * hd); Zeroed(ref _gb3, 3 * hd); Zeroed(ref _tmpH, hd); Zeroed(ref _dRoot, 2 * hd);
        new Span<float>(_dLeafH, 0, p.Unique * hd).Clear();
        new Span<float>(_dLeafC, 0, p.Unique * hd).Clear();
        var ks = GemmKernelSet.Best;
        fixed (float* x = _x, cx = _cx, g = _g, rh = _rootH, rc = _rootC, dx = _dx, dcx = _dcx, dz = _dz, zero = _dRoot, dh = _tmpH)
        fixed (float* gl = _gLeft, gr = _gRight, gb5 = _gb5, lg = _leafG, lc = _leafC, lh = _leafH, dlh = _dLeafH, dlc = _dLeafC)
        fixed (float* dzl = _dzLeaf, xl = _xLeaf, dxl = _dxLeaf, glf = _gLeaf, gb3 = _gb3)
        {
            for (int l = p.Levels - 1; l >= 0; l--)
            {
                int r0 = p.LevelStart[l], m = p.LevelStart[l + 1] - r0;
                for (int r = 0; r < m; r++)
                {
                    int row = r0 + r, dest = p.RowDest[row];
                    Dest(dest, x, cx, rh, rc, hd, out float* h, out float* c);
                    // The node's incoming gradients wait in its parent's row (none at a root).
                    float* dhIn = dest < 0 ? zero : Slot(dx, dest, hd), dcIn = dest < 0 ? null : Slot(dcx, dest, hd);
                    Buffer.MemoryCopy(dhIn, dh, hd * 4, hd * 4);
                    LossGrad(h, p.RowLabel[row], dh);
                    TreeLstmGates.NodeBackward(hd, g + (long)row * 5 * hd, c, cx + (long)row * 2 * hd, dh, dcIn, dz + (long)r * 5 * hd, dcx + (long)row * 2 * hd);
                    var b5 = new Span<float>(gb5, 5 * hd);
                    System.Numerics.Tensors.TensorPrimitives.Add(b5, new ReadOnlySpan<float>(dz + (long)r * 5 * hd, 5 * hd), b5);
                }
                float* a = x + (long)r0 * 2 * hd;
                StridedGemm.Multiply(m, hd, 4 * hd, dz, 5 * hd, _w.LeftT, dx + (long)r0 * 2 * hd, 2 * hd, accumulate: false);
                StridedGemm.Multiply(m, hd, 4 * hd, dz + hd, 5 * hd, _w.RightT, dx + (long)r0 * 2 * hd + hd, 2 * hd, accumulate: false);
                GemmCore.Multiply(ks, hd, 4 * hd, m, new GemmDenseA(a, 2 * hd, true, 1f), new GemmDenseB(dz, 5 * hd, false), gl, 4 * hd, accumulate: true);
                GemmCore.Multiply(ks, hd, 4 * hd, m, new GemmDenseA(a + hd, 2 * hd, true, 1f), new GemmDenseB(dz + hd, 5 * hd, false), gr, 4 * hd, accumulate: true);
            }
            // Leaves: gradients of identical leaves (one word) add up, then one backward per distinct word.
            for (int i = 0; i < p.Leaves; i++)
            {
                int u = p.LeafUnique[i], dest = p.LeafDest[i];
                float* duh = dlh + (long)u * hd, duc = dlc + (long)u * hd;
                if (dest >= 0)
                {
                    float* sh = Slot(dx, dest, hd), sc = Slot(dcx, dest, hd);
                    var dhs = new Span<float>(duh, hd);
                    var dcs = new Span<float>(duc, hd);
                    System.Numerics.Tensors.TensorPrimitives.Add(dhs, new ReadOnlySpan<float>(sh, hd), dhs);
                    System.Numerics.Tensors.TensorPrimitives.Add(dcs, new ReadOnlySpan<float>(sc, hd), dcs);
                }
                LossGrad(lh + (long)u * hd, p.LeafLabel[i], duh);
            }
            for (int u = 0; u < p.Unique; u++)
            {
                TreeLstmGates.LeafBackward(hd, lg + (long)u * 3 * hd, lc + (long)u * hd, dlh + (long)u * hd, dlc + (long)u * hd, dzl + (long)u * 3 * hd);
                var b3 = new Span<float>(gb3, 3 * hd);
                System.Numerics.Tensors.TensorPrimitives.Add(b3, new ReadOnlySpan<float>(dzl + (long)u * 3 * hd, 3 * hd), b3);
                Buffer.MemoryCopy(_m.Embedding.Row(p.UniqueWord[u]), xl + (long)u * hd, hd * 4, hd * 4);
            }
            StridedGemm.Multiply(p.Unique, hd, 3 * hd, dzl, 3 * hd, _w.LeafT, dxl, hd, accumulate: false);
            GemmCore.Multiply(ks, hd, 3 * hd, p.Unique, new GemmDenseA(xl, hd, true, 1f), new GemmDenseB(dzl, 3 * hd, false), glf, 3 * hd, accumulate: true);
            for (int u = 0; u < p.Unique; u++) _m.Embedding.AddGradRow(p.UniqueWord[u], dxl + (long)u * hd);
        }
        TreeLstmWeights.AddPackedGrad(hd, _w.LeftBlocks, _gLeft);
        TreeLstmWeights.AddPackedGrad(hd, _w.RightBlocks, _gRight);
        TreeLstmWeights.AddPackedGrad(hd, _w.LeafBlocks, _gLeaf);
        AddBias(_m.Bf, _gb5, 0); AddBias(_m.Bi, _gb5, 1); AddBias(_m.Bo, _gb5, 2); AddBias(_m.Bu, _gb5, 3); AddBias(_m.Bf, _gb5, 4);
        AddBias(_m.Bi, _gb3, 0); AddBias(_m.Bo, _gb3, 1); AddBias(_m.Bu, _gb3, 2);
    }

    /// <summary>dh += W_outᵀ (softmax(W_out h) − onehot(label)); W_out's gradient += that outer h.</summary>
    private void LossGrad(float* h, int label, float* dh)
    {
        var w = _m.Wout;
        fixed (float* pw = w.Value, pg = w.Grad) SoftmaxOutput.Gradient(w.Cols, pw, h, label, dh, pg);
    }

    private static float* Slot(float* buffer, int slot, int hd) => buffer + (long)(slot >> 1) * 2 * hd + (slot & 1) * hd;

    private void AddBias(Parameter b, float[] packed, int block)
    {
        int hd = _m.Hidden;
        var grad = b.Grad;
        for (int j = 0; j < hd; j++) grad[j] += packed[block * hd + j];
    }

    private static void Zeroed(ref float[] a, int n)
    {
        Grow(ref a, n);
        Array.Clear(a, 0, n);
    }
}
