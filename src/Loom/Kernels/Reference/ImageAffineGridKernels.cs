using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>AffineGrid (opset 20): the sampling grid of a batch of 2-D or 3-D affine transforms.</summary>
[KernelRegistrations]
internal static class ImageAffineGridKernels
{
    public static void Register(KernelRegistry r) =>
        r.Add("AffineGrid", info => new AffineGridKernel(info.GetInt("align_corners", 0) != 0), 20);

    private sealed class AffineGridKernel(bool alignCorners) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var theta = ctx.Input(0);
            var size = ImageNumerics.ReadLongs(ctx.Input(1));
            if (size.Length is not (4 or 5)) throw ctx.Fail($"'size' has {size.Length} elements; expected 4 (N, C, H, W) or 5 (N, C, D, H, W)");
            int r = size.Length - 2;
            if (size.Any(s => s < 0 || s > int.MaxValue)) throw ctx.Fail($"'size' [{string.Join(", ", size)}] has an invalid dim");
            int n = (int)size[0];
            if (theta.Rank != 3 || theta.Dims[0] != n || theta.Dims[1] != r || theta.Dims[2] != r + 1)
                throw ctx.Fail($"theta has shape {ShapeMath.Format(theta.Shape)}; expected [{n},{r},{r + 1}]");
            var spatial = size[2..].Select(s => (int)s).ToArray(); // D, H, W (outermost first)
            var grid = ctx.AllocateOutput(0, theta.DataType, [n, .. spatial, r]);
            if (grid.Length == 0) return;

            // Evenly spaced base positions in [-1, 1] per axis (pixel centres, or corner centres when aligned).
            var bases = spatial.Select(Positions).ToArray();
            var th = ImageNumerics.ToDoubles(theta);
            var result = new double[grid.Length];
            int points = (int)ShapeMath.Size(spatial);
            var strides = ShapeMath.Strides(spatial);
            var p = new double[r + 1]; // homogeneous point, innermost axis first (x, y[, z], 1)
            p[r] = 1;
            for (int b = 0; b < n; b++)
                for (int q = 0; q < points; q++)
                {
                    for (int d = 0; d < r; d++) p[r - 1 - d] = bases[d][q / strides[d] % spatial[d]];
                    for (int row = 0; row < r; row++)
                    {
                        double sum = 0;
                        for (int k = 0; k <= r; k++) sum += th[(b * r + row) * (r + 1) + k] * p[k];
                        result[(b * points + q) * r + row] = sum;
                    }
                }
            ImageNumerics.Store(result, grid);
        }

        private double[] Positions(int len)
        {
            var a = new double[len];
            for (int i = 0; i < len; i++)
                a[i] = alignCorners ? (len == 1 ? -1 : -1 + 2.0 * i / (len - 1)) : -1 + (2.0 * i + 1) / len;
            return a;
        }
    }
}
