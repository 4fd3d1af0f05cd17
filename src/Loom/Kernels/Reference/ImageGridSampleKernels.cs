using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>GridSample (opset 16: 2-D, bilinear/nearest/bicubic; opset 20+: N-D, linear/nearest/cubic).</summary>
[KernelRegistrations]
internal static class ImageGridSampleKernels
{
    public static void Register(KernelRegistry r) => r.Add("GridSample", GridSampleKernel.Create, 16);

    private enum Mode { Nearest, Linear, Cubic }
    private enum Padding { Zeros, Border, Reflection }

    private sealed class GridSampleKernel(Mode mode, Padding padding, bool alignCorners, bool only2D) : Kernel
    {
        public static Kernel Create(KernelInfo info)
        {
            bool v16 = info.Opset < 20;
            var mode = info.GetString("mode", v16 ? "bilinear" : "linear") switch
            {
                "nearest" => Mode.Nearest,
                "bilinear" when v16 => Mode.Linear,
                "bicubic" when v16 => Mode.Cubic,
                "linear" when !v16 => Mode.Linear,
                "cubic" when !v16 => Mode.Cubic,
                var m => throw info.Fail($"mode '{m}' is not supported at opset {info.Opset}"),
            };
            var padding = info.GetString("padding_mode", "zeros") switch
            {
                "zeros" => Padding.Zeros,
                "border" => Padding.Border,
                "reflection" => Padding.Reflection,
                var p => throw info.Fail($"padding_mode '{p}' is not supported (expected zeros, border or reflection)"),
            };
            return new GridSampleKernel(mode, padding, info.GetInt("align_corners", 0) != 0, only2D: v16);
        }

        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            var grid = ctx.Input(1);
            int r = x.Rank - 2;
            if (r < 1 || only2D && r != 2) throw ctx.Fail($"X has rank {x.Rank}; expected {(only2D ? "4" : "at least 3")}");
            if (grid.Rank != r + 2 || grid.Dims[^1] != r || grid.Dims[0] != x.Dims[0])
                throw ctx.Fail($"grid has shape {ShapeMath.Format(grid.Shape)}; expected [{x.Dims[0]}, ..., {r}] of rank {r + 2}");
            int n = x.Dims[0], c = x.Dims[1];
            var inDims = x.Dims[2..];
            var outDims = grid.Dims[1..^1];
            var y = ctx.AllocateOutput(0, x.DataType, [n, c, .. outDims]);
            if (y.Length == 0) return;
            if (ShapeMath.Size(inDims) == 0)
            {
                if (padding != Padding.Zeros) throw ctx.Fail("X has an empty spatial dim; only zeros padding can sample it");
                return;
            }
            if (mode != Mode.Nearest && !ImageNumerics.IsNumeric(x.DataType))
                throw ctx.Fail($"{x.DataType.Name()} input cannot be interpolated; only nearest mode supports it");

            var sampler = new TapBuilder(mode, padding, alignCorners, grid.DataType != DataType.Double, inDims);
            var g = ImageNumerics.ToDoubles(grid);
            int outSpatial = (int)ShapeMath.Size(outDims), inSpatial = (int)ShapeMath.Size(inDims);
            var offsets = new int[sampler.TapCount];
            var weights = new double[sampler.TapCount];
            if (mode == Mode.Nearest)
            {
                // One source offset per output location (-1: padding zero), then a gather per channel.
                var source = new int[n * outSpatial];
                for (int b = 0; b < n; b++)
                    for (int o = 0; o < outSpatial; o++)
                    {
                        sampler.Build(g.AsSpan((b * outSpatial + o) * r, r), offsets, weights);
                        source[b * outSpatial + o] = offsets[0];
                    }
                ImageGather.Planes(x, y, source, n, c, inSpatial, outSpatial);
                return;
            }

            var src = ImageNumerics.ToDoubles(x);
            var dst = new double[y.Length];
            for (int b = 0; b < n; b++)
                for (int o = 0; o < outSpatial; o++)
                {
                    sampler.Build(g.AsSpan((b * outSpatial + o) * r, r), offsets, weights);
                    for (int ch = 0; ch < c; ch++)
                    {
                        int plane = (b * c + ch) * inSpatial;
                        double sum = 0;
                        for (int t = 0; t < offsets.Length; t++)
                            if (offsets[t] >= 0) sum += weights[t] * src[plane + offsets[t]];
                        dst[(b * c + ch) * outSpatial + o] = sum;
                    }
                }
            ImageNumerics.Store(dst, y);
        }
    }

    /// <summary>
    /// Turns one normalised grid point into source taps: flat spatial offsets (or -1 where zero padding
    /// applies) and their weights (products of per-axis linear or cubic weights). Not shared across threads.
    /// </summary>
    private sealed class TapBuilder
    {
        private readonly Mode _mode;
        private readonly Padding _padding;
        private readonly bool _alignCorners, _single;
        private readonly int[] _dims, _strides;
        private readonly int _perAxis;
        private readonly int[] _axisIndex;
        private readonly double[] _axisWeight;

        public TapBuilder(Mode mode, Padding padding, bool alignCorners, bool single, int[] dims)
        {
            (_mode, _padding, _alignCorners, _single, _dims) = (mode, padding, alignCorners, single, dims);
            _strides = ShapeMath.Strides(dims);
            _perAxis = mode switch { Mode.Nearest => 1, Mode.Linear => 2, _ => 4 };
            _axisIndex = new int[dims.Length * _perAxis];
            _axisWeight = new double[dims.Length * _perAxis];
            TapCount = (int)Math.Pow(_perAxis, dims.Length);
        }

        public int TapCount { get; }

        public void Build(ReadOnlySpan<double> point, int[] offsets, double[] weights)
        {
            int r = _dims.Length;
            for (int d = 0; d < r; d++)
            {
                // The grid lists coordinates innermost axis first (x, y, z).
                double v = Denormalize(point[r - 1 - d], _dims[d]);
                if (_mode == Mode.Nearest) v = Math.Round(v, MidpointRounding.ToEven);
                var (lo, hi) = Bounds(_dims[d]);
                // Cubic pads each tap (as PyTorch and ONNX Runtime do), the other modes the coordinate.
                if ((v < lo || v > hi) && _mode != Mode.Cubic)
                {
                    if (_padding == Padding.Border) v = Math.Clamp(v, 0, _dims[d] - 1);
                    else if (_padding == Padding.Reflection) v = Narrow(Reflect(v, lo, hi));
                }
                AxisTaps(d, v);
            }
            // Tensor product over the axes: tap t picks per-axis tap (t / perAxis^(r-1-d)) % perAxis.
            for (int t = 0; t < TapCount; t++)
            {
                int rest = t, offset = 0;
                double w = 1;
                for (int d = r - 1; d >= 0; d--)
                {
                    int k = rest % _perAxis;
                    rest /= _perAxis;
                    int i = _axisIndex[d * _perAxis + k];
                    w *= _axisWeight[d * _perAxis + k];
                    offset = i < 0 || offset < 0 ? -1 : offset + i * _strides[d];
                }
                offsets[t] = offset;
                weights[t] = w;
            }
        }

        private void AxisTaps(int d, double v)
        {
            int at = d * _perAxis;
            if (_mode == Mode.Nearest)
            {
                _axisIndex[at] = Pixel((long)v, d);
                _axisWeight[at] = 1;
                return;
            }
            double floor = Math.Floor(v), t = v - floor;
            long first = (long)floor - (_mode == Mode.Cubic ? 1 : 0);
            for (int k = 0; k < _perAxis; k++)
            {
                _axisIndex[at + k] = Pixel(first + k, d);
                _axisWeight[at + k] = _mode == Mode.Linear ? (k == 0 ? 1 - t : t) : Cubic(k - 1 - t);
            }
        }

        /// <summary>The in-range index a tap reads under the padding mode, or -1 for a zero.</summary>
        private int Pixel(long i, int d)
        {
            int len = _dims[d];
            if (i >= 0 && i < len) return (int)i;
            return _padding switch
            {
                Padding.Zeros => -1,
                Padding.Border => (int)Math.Clamp(i, 0, len - 1),
                _ => (int)Math.Clamp((long)Reflect(i, Bounds(len).Lo, Bounds(len).Hi), 0, len - 1),
            };
        }

        private (double Lo, double Hi) Bounds(int len) => _alignCorners ? (0, len - 1) : (-0.5, len - 0.5);

        /// <summary>Grid value in [-1, 1] to pixel coordinate, in the grid's own precision (float for float grids, as ONNX Runtime and the reference compute).</summary>
        private double Denormalize(double g, int len)
        {
            if (_single)
            {
                float f = (float)g;
                return _alignCorners ? (f + 1f) / 2f * (len - 1) : ((f + 1f) * len - 1f) / 2f;
            }
            return _alignCorners ? (g + 1) / 2 * (len - 1) : ((g + 1) * len - 1) / 2;
        }

        private double Narrow(double v) => _single ? (float)v : v;

        /// <summary>Reflects <paramref name="v"/> off the borders until it lies within them.</summary>
        private static double Reflect(double v, double lo, double hi)
        {
            double range = hi - lo;
            if (range <= 0) return lo;
            if (v >= lo && v <= hi) return v;
            double dx = v < lo ? lo - v : v - hi;
            long flips = (long)(dx / range);
            double rem = dx - flips * range;
            bool even = flips % 2 == 0;
            return v < lo ? (even ? lo + rem : hi - rem) : (even ? hi - rem : lo + rem);
        }

        /// <summary>Keys' cubic kernel with A = -0.75 (PyTorch's), at distance <paramref name="s"/>.</summary>
        private static double Cubic(double s)
        {
            const double a = -0.75;
            s = Math.Abs(s);
            if (s <= 1) return ((a + 2) * s - (a + 3)) * s * s + 1;
            if (s < 2) return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a;
            return 0;
        }
    }
}
