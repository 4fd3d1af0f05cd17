using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Transpose, DepthToSpace and SpaceToDepth: each is one axis permutation of a (reshaped) buffer.</summary>
[KernelRegistrations]
internal static class ShapeTransposeKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Transpose", info =>
        {
            var perm = info.GetInts("perm")?.ToArray();
            if (perm is not null && !perm.Order().SequenceEqual(Enumerable.Range(0, perm.Length).Select(i => (long)i)))
                throw info.Fail($"perm [{string.Join(",", perm)}] is not a permutation of 0..{perm.Length - 1}");
            return new TransposeKernel(perm?.Select(p => (int)p).ToArray());
        });
        r.Add("DepthToSpace", info =>
        {
            var mode = info.Opset >= 11 ? info.GetString("mode", "DCR") : "DCR";
            if (mode is not ("DCR" or "CRD")) throw info.Fail($"mode '{mode}' is not DCR or CRD");
            return new SpaceDepthKernel(BlockSize(info), toSpace: true, crd: mode == "CRD");
        });
        r.Add("SpaceToDepth", info => new SpaceDepthKernel(BlockSize(info), toSpace: false, crd: false));
    }

    private static int BlockSize(KernelInfo info)
    {
        long b = info.GetInt("blocksize", 0);
        if (b < 1 || b > int.MaxValue) throw info.Fail($"blocksize {b} must be positive");
        return (int)b;
    }

    private sealed class TransposeKernel(int[]? perm) : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var p = perm ?? Enumerable.Range(0, x.Rank).Reverse().ToArray();
            if (p.Length != x.Rank) throw ctx.Fail($"perm [{string.Join(",", p)}] does not match the input's rank {x.Rank}");
            var outShape = ShapeTranspose.PermutedShape(x.Shape, p);
            if (ShapeTranspose.KeepsOrder(x.Shape, p)) { ctx.SetOutput(0, x.Reshape(outShape)); return; }
            var y = ctx.AllocateOutput(0, x.DataType, outShape);
            ShapeTranspose.Permute<T>(ShapeStorage.Elements<T>(x), x.Shape, p, ShapeStorage.Elements<T>(y));
        }
    }

    /// <summary>DepthToSpace (DCR or CRD) and SpaceToDepth on NCHW: view as 6-D, permute, view as 4-D.</summary>
    private sealed class SpaceDepthKernel(int block, bool toSpace, bool crd) : StorageKernel
    {
        protected override void Execute<T>(KernelContext ctx)
        {
            var x = ctx.Input(0);
            if (x.Rank != 4) throw ctx.Fail($"input must be 4-D (NCHW), got {ShapeMath.Format(x.Shape)}");
            int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3], b = block;
            int[] view, perm, outShape;
            if (toSpace)
            {
                if (c % (b * b) != 0) throw ctx.Fail($"channels {c} are not divisible by blocksize² {b * b}");
                int oc = c / (b * b);
                view = crd ? [n, oc, b, b, h, w] : [n, b, b, oc, h, w];
                perm = crd ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2];
                outShape = [n, oc, h * b, w * b];
            }
            else
            {
                if (h % b != 0 || w % b != 0) throw ctx.Fail($"height {h} and width {w} must be divisible by blocksize {b}");
                view = [n, c, h / b, b, w / b, b];
                perm = [0, 3, 5, 1, 2, 4];
                outShape = [n, c * b * b, h / b, w / b];
            }
            var y = ctx.AllocateOutput(0, x.DataType, outShape);
            ShapeTranspose.Permute<T>(ShapeStorage.Elements<T>(x), view, perm, ShapeStorage.Elements<T>(y));
        }
    }
}
