using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>RoiAlign (opsets 10, 16, 22): bilinear samples averaged (or maxed) over each bin of each RoI.</summary>
[KernelRegistrations]
internal static class DetectionRoiAlignKernels
{
    public static void Register(KernelRegistry r) => r.Add("RoiAlign", Create, 10);

    private static Kernel Create(KernelInfo info)
    {
        bool max = info.GetString("mode", "avg") switch
        {
            "avg" => false,
            "max" => true,
            var m => throw info.Fail($"mode '{m}' is not supported (expected avg or max)"),
        };
        // Opset 10 had no coordinate_transformation_mode; it behaved as output_half_pixel.
        bool halfPixel = info.Opset >= 16 && info.GetString("coordinate_transformation_mode", "half_pixel") switch
        {
            "half_pixel" => true,
            "output_half_pixel" => false,
            var c => throw info.Fail($"coordinate_transformation_mode '{c}' is not supported (expected half_pixel or output_half_pixel)"),
        };
        long h = info.GetInt("output_height", 1), w = info.GetInt("output_width", 1), ratio = info.GetInt("sampling_ratio", 0);
        if (h < 1 || w < 1 || h > int.MaxValue || w > int.MaxValue) throw info.Fail($"output_height {h} and output_width {w} must be positive");
        if (ratio < 0 || ratio > int.MaxValue) throw info.Fail($"sampling_ratio {ratio} must be >= 0");
        return new RoiAlignKernel(max, halfPixel, (int)h, (int)w, (int)ratio, info.GetFloat("spatial_scale", 1f));
    }

    /// <summary>Bilinear sample positions along one axis of one RoI: for bin p and sample i, the two neighbours and weights.</summary>
    private readonly record struct AxisSamples(int Grid, int[] Low, int[] High, double[] LowWeight, double[] HighWeight, bool[] Valid);

    private sealed class RoiAlignKernel(bool max, bool halfPixel, int outH, int outW, int samplingRatio, double spatialScale) : Kernel
    {
        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var rois = ctx.Input(1);
            var batch = ImageNumerics.ReadLongs(ctx.Input(2));
            if (x.Rank != 4) throw ctx.Fail($"X has shape {ShapeMath.Format(x.Shape)}; expected (N, C, H, W)");
            if (rois.Rank != 2 || rois.Dims[1] != 4) throw ctx.Fail($"rois has shape {ShapeMath.Format(rois.Shape)}; expected (num_rois, 4)");
            int numRois = rois.Dims[0];
            if (batch.Length != numRois) throw ctx.Fail($"batch_indices has {batch.Length} elements but there are {numRois} rois");
            int n = x.Dims[0], c = x.Dims[1], height = x.Dims[2], width = x.Dims[3];
            var y = ctx.AllocateOutput(0, x.DataType, [numRois, c, outH, outW]);
            if (y.Length == 0) return;
            var src = ImageNumerics.ToDoubles(x);
            var box = ImageNumerics.ToDoubles(rois);
            var dst = new double[y.Length];
            double shift = halfPixel ? 0.5 : 0;
            for (int r = 0; r < numRois; r++)
            {
                if (batch[r] < 0 || batch[r] >= n) throw ctx.Fail($"batch index {batch[r]} of roi {r} is out of range [0, {n})");
                double x1 = box[r * 4] * spatialScale - shift, y1 = box[r * 4 + 1] * spatialScale - shift;
                double x2 = box[r * 4 + 2] * spatialScale - shift, y2 = box[r * 4 + 3] * spatialScale - shift;
                var ys = Samples(y1, y2 - y1, outH, height);
                var xs = Samples(x1, x2 - x1, outW, width);
                int count = Math.Max(ys.Grid * xs.Grid, 1);
                for (int ch = 0; ch < c; ch++)
                {
                    int plane = (int)((batch[r] * c + ch) * height * width);
                    int outBase = (r * c + ch) * outH * outW;
                    for (int ph = 0; ph < outH; ph++)
                        for (int pw = 0; pw < outW; pw++)
                        {
                            double acc = 0;
                            bool first = true;
                            for (int iy = ph * ys.Grid; iy < (ph + 1) * ys.Grid; iy++)
                                for (int ix = pw * xs.Grid; ix < (pw + 1) * xs.Grid; ix++)
                                {
                                    double v = Sample(src, plane, width, ys, iy, xs, ix);
                                    if (!max) acc += v;
                                    else if (first || v > acc) acc = v;
                                    first = false;
                                }
                            dst[outBase + ph * outW + pw] = max ? acc : acc / count;
                        }
                }
            }
            ImageNumerics.Store(dst, y);
        }

        /// <summary>
        /// The value of one sample: in avg mode the bilinear interpolation, in max mode (as ONNX Runtime
        /// defines it) the largest of the four weighted neighbours. Samples outside the map are 0.
        /// </summary>
        private double Sample(double[] src, int plane, int width, in AxisSamples ys, int iy, in AxisSamples xs, int ix)
        {
            if (!ys.Valid[iy] || !xs.Valid[ix]) return 0;
            int rowLow = plane + ys.Low[iy] * width, rowHigh = plane + ys.High[iy] * width;
            double a = ys.LowWeight[iy] * xs.LowWeight[ix] * src[rowLow + xs.Low[ix]];
            double b = ys.LowWeight[iy] * xs.HighWeight[ix] * src[rowLow + xs.High[ix]];
            double cc = ys.HighWeight[iy] * xs.LowWeight[ix] * src[rowHigh + xs.Low[ix]];
            double d = ys.HighWeight[iy] * xs.HighWeight[ix] * src[rowHigh + xs.High[ix]];
            return max ? Math.Max(Math.Max(a, b), Math.Max(cc, d)) : a + b + cc + d;
        }

        /// <summary>Sample positions along one axis of a RoI starting at <paramref name="start"/> with extent <paramref name="extent"/>.</summary>
        private AxisSamples Samples(double start, double extent, int bins, int size)
        {
            if (!halfPixel) extent = Math.Max(extent, 1.0); // legacy mode forces RoIs to at least one pixel
            double binSize = extent / bins;
            int grid = samplingRatio > 0 ? samplingRatio : (int)Math.Ceiling(extent / bins);
            int total = bins * grid;
            var s = new AxisSamples(grid, new int[total], new int[total], new double[total], new double[total], new bool[total]);
            for (int p = 0; p < bins; p++)
                for (int i = 0; i < grid; i++)
                {
                    int k = p * grid + i;
                    double v = start + p * binSize + (i + 0.5) * binSize / grid;
                    if (v < -1.0 || v > size) continue;
                    v = Math.Max(v, 0);
                    int low = (int)v, high;
                    if (low >= size - 1) { high = low = size - 1; v = low; }
                    else high = low + 1;
                    double l = v - low;
                    (s.Low[k], s.High[k], s.LowWeight[k], s.HighWeight[k], s.Valid[k]) = (low, high, 1 - l, l, true);
                }
            return s;
        }
    }
}
