using Loom.Kernels.Common;
using Loom.Runtime;

namespace Loom.Kernels.Reference;

/// <summary>Resize (opsets 10–19+) and its predecessor Upsample (opsets 7–9).</summary>
[KernelRegistrations]
internal static class ImageResizeKernels
{
    public static void Register(KernelRegistry r)
    {
        r.Add("Resize", info => ResizeKernel.Create(info, isUpsample: false), 10);
        r.Add("Upsample", info => ResizeKernel.Create(info, isUpsample: true), 7);
    }

    private sealed class ResizeKernel : Kernel
    {
        private readonly ResizeSettings _settings;
        private readonly bool _isUpsample;
        private readonly int _opset;
        private readonly long[]? _axes;
        private readonly string _aspectPolicy;
        private readonly double[]? _attributeScales; // Upsample-7 keeps its scales in an attribute

        private ResizeKernel(ResizeSettings settings, bool isUpsample, int opset, long[]? axes, string aspectPolicy, double[]? attributeScales)
        {
            _settings = settings;
            _isUpsample = isUpsample;
            _opset = opset;
            _axes = axes;
            _aspectPolicy = aspectPolicy;
            _attributeScales = attributeScales;
        }

        public static ResizeKernel Create(KernelInfo info, bool isUpsample)
        {
            // Resize-10 and Upsample have no coordinate_transformation_mode or nearest_mode: they map
            // asymmetrically and pick pixels with the "simple" rule.
            bool legacy = isUpsample || info.Opset < 11;
            var mode = info.GetString("mode", "nearest") switch
            {
                "nearest" => ResizeMode.Nearest,
                "linear" or "bilinear" when legacy => ResizeMode.Linear,
                "linear" => ResizeMode.Linear,
                "cubic" when !legacy => ResizeMode.Cubic,
                var m => throw info.Fail($"mode '{m}' is not supported (expected nearest, linear{(legacy ? "" : " or cubic")})"),
            };
            var coordinates = legacy ? ResizeCoordinates.Asymmetric : info.GetString("coordinate_transformation_mode", "half_pixel") switch
            {
                "half_pixel" => ResizeCoordinates.HalfPixel,
                "half_pixel_symmetric" => ResizeCoordinates.HalfPixelSymmetric,
                "pytorch_half_pixel" => ResizeCoordinates.PytorchHalfPixel,
                "align_corners" => ResizeCoordinates.AlignCorners,
                "asymmetric" => ResizeCoordinates.Asymmetric,
                "tf_half_pixel_for_nn" => ResizeCoordinates.TfHalfPixelForNn,
                "tf_crop_and_resize" => ResizeCoordinates.TfCropAndResize,
                var c => throw info.Fail($"coordinate_transformation_mode '{c}' is not supported"),
            };
            var nearest = legacy ? ResizeNearest.Simple : info.GetString("nearest_mode", "round_prefer_floor") switch
            {
                "round_prefer_floor" => ResizeNearest.RoundPreferFloor,
                "round_prefer_ceil" => ResizeNearest.RoundPreferCeil,
                "floor" => ResizeNearest.Floor,
                "ceil" => ResizeNearest.Ceil,
                var n => throw info.Fail($"nearest_mode '{n}' is not supported"),
            };
            bool modern = !legacy && info.Opset >= 18;
            bool antialias = modern && info.GetInt("antialias", 0) != 0;
            var settings = new ResizeSettings(mode, coordinates, nearest,
                CubicA: info.GetFloat("cubic_coeff_a", -0.75f),
                ExcludeOutside: !legacy && info.GetInt("exclude_outside", 0) != 0,
                Extrapolation: info.GetFloat("extrapolation_value", 0f),
                Antialias: antialias && mode != ResizeMode.Nearest);
            var policy = modern ? info.GetString("keep_aspect_ratio_policy", "stretch") : "stretch";
            if (policy is not ("stretch" or "not_larger" or "not_smaller"))
                throw info.Fail($"keep_aspect_ratio_policy '{policy}' is not supported (expected stretch, not_larger or not_smaller)");
            var axes = modern ? info.GetInts("axes")?.ToArray() : null;

            double[]? attributeScales = null;
            if (isUpsample && info.Opset < 9)
            {
                attributeScales = info.GetFloats("scales")?.Select(f => (double)f).ToArray() ?? throw info.Fail("Upsample needs the 'scales' attribute");
                if (attributeScales.Any(s => !(s >= 1))) throw info.Fail($"Upsample scales must be >= 1, got [{string.Join(", ", attributeScales)}]");
            }
            return new ResizeKernel(settings, isUpsample, info.Opset, axes, policy, attributeScales);
        }

        public override void Run(KernelContext ctx)
        {
            var x = ctx.Input(0);
            int rank = x.Rank;
            if (rank == 0) throw ctx.Fail("X must have at least one dimension");
            var inDims = x.Dims;
            var axes = ResolveAxes(ctx, rank);

            double[]? scales = _attributeScales;
            long[]? sizes = null;
            Tensor? roi = null;
            if (scales is null)
            {
                if (_isUpsample || _opset < 11) scales = ImageNumerics.ToDoubles(ctx.Input(1));
                else
                {
                    roi = NonEmpty(ctx.OptionalInput(1));
                    scales = NonEmpty(ctx.OptionalInput(2)) is { } s ? ImageNumerics.ToDoubles(s) : null;
                    sizes = NonEmpty(ctx.OptionalInput(3)) is { } z ? ImageNumerics.ReadLongs(z) : null;
                    if (scales is not null && sizes is not null) throw ctx.Fail("only one of 'scales' and 'sizes' may be given");
                    if (scales is null && sizes is null) throw ctx.Fail("one of 'scales' and 'sizes' must be given (and non-empty)");
                }
            }

            var outDims = (int[])inDims.Clone();
            var axisScale = Enumerable.Repeat(1.0, rank).ToArray();
            if (scales is not null)
            {
                if (scales.Length != axes.Length) throw ctx.Fail($"'scales' has {scales.Length} elements, expected {axes.Length}");
                for (int i = 0; i < axes.Length; i++)
                {
                    double s = scales[i];
                    if (!(s > 0) || !double.IsFinite(s) || _isUpsample && s < 1) throw ctx.Fail($"scale {s} on axis {axes[i]} must be finite and {(_isUpsample ? ">= 1" : "> 0")}");
                    double size = Math.Floor(s * inDims[axes[i]]);
                    if (size > int.MaxValue) throw ctx.Fail($"scale {s} makes axis {axes[i]} too long ({size})");
                    axisScale[axes[i]] = s;
                    outDims[axes[i]] = (int)size;
                }
            }
            else
            {
                if (sizes!.Length != axes.Length) throw ctx.Fail($"'sizes' has {sizes.Length} elements, expected {axes.Length}");
                ApplySizes(ctx, sizes, axes, inDims, outDims, axisScale);
            }

            var (roiStart, roiEnd) = ReadRoi(ctx, roi, axes, rank);
            // Nearest mode writes every element (ImageResampler.Gather), so its output need not be zeroed first.
            var y = ctx.AllocateOutput(0, x.DataType, outDims, clear: _settings.Mode != ResizeMode.Nearest);
            if (y.Length == 0) return;
            var tables = new ResizeAxis?[rank];
            for (int d = 0; d < rank; d++)
            {
                if (inDims[d] == 0) throw ctx.Fail($"axis {d} is empty but the output has {outDims[d]} elements along it");
                bool identity = IsClose(axisScale[d], 1) && outDims[d] == inDims[d]
                    && (_settings.Coordinates != ResizeCoordinates.TfCropAndResize || roiStart[d] == 0 && roiEnd[d] == 1);
                if (!identity) tables[d] = ResizeAxis.Build(_settings, inDims[d], outDims[d], axisScale[d], roiStart[d], roiEnd[d]);
            }

            if (_settings.Mode == ResizeMode.Nearest) ImageResampler.Gather(x, y, tables, _settings.Extrapolation);
            else if (!ImageNumerics.IsNumeric(x.DataType)) throw ctx.Fail($"{x.DataType.Name()} input cannot be interpolated; only nearest mode supports it");
            else ImageResampler.Interpolate(x, y, tables, _settings.Extrapolation, roundIntegers: _settings.Antialias);
        }

        private int[] ResolveAxes(KernelContext ctx, int rank)
        {
            if (_axes is null) return Enumerable.Range(0, rank).ToArray();
            var axes = new int[_axes.Length];
            for (int i = 0; i < axes.Length; i++)
            {
                long a = _axes[i];
                if (a < -rank || a >= rank) throw ctx.Fail($"axis {a} is out of range for rank {rank}");
                axes[i] = (int)(a < 0 ? a + rank : a);
                if (Array.IndexOf(axes, axes[i], 0, i) >= 0) throw ctx.Fail($"axis {a} is repeated in 'axes'");
            }
            return axes;
        }

        /// <summary>Output dims and coordinate scales from the sizes input, under keep_aspect_ratio_policy.</summary>
        private void ApplySizes(KernelContext ctx, long[] sizes, int[] axes, int[] inDims, int[] outDims, double[] axisScale)
        {
            for (int i = 0; i < axes.Length; i++)
            {
                if (sizes[i] < 0 || sizes[i] > int.MaxValue) throw ctx.Fail($"size {sizes[i]} on axis {axes[i]} is invalid");
                if (inDims[axes[i]] == 0 && sizes[i] != 0) throw ctx.Fail($"axis {axes[i]} is empty and cannot be resized to {sizes[i]}");
            }
            if (_aspectPolicy == "stretch")
            {
                for (int i = 0; i < axes.Length; i++)
                {
                    int a = axes[i];
                    outDims[a] = (int)sizes[i];
                    axisScale[a] = inDims[a] == 0 ? 1 : (double)sizes[i] / inDims[a];
                }
                return;
            }
            // One scale for all the axes keeps the aspect ratio: the largest that fits in sizes
            // (not_larger) or the smallest that covers it (not_smaller).
            bool notLarger = _aspectPolicy == "not_larger";
            double scale = notLarger ? double.MaxValue : double.MinValue;
            for (int i = 0; i < axes.Length; i++)
            {
                if (inDims[axes[i]] == 0) continue;
                double s = (double)sizes[i] / inDims[axes[i]];
                scale = notLarger ? Math.Min(scale, s) : Math.Max(scale, s);
            }
            if (scale is double.MaxValue or double.MinValue) scale = 1;
            foreach (int a in axes)
            {
                double size = Math.Floor(scale * inDims[a] + 0.5);
                if (size > int.MaxValue) throw ctx.Fail($"axis {a} would be too long ({size})");
                axisScale[a] = scale;
                outDims[a] = (int)size;
            }
        }

        /// <summary>Per-axis (start, end) of the crop for tf_crop_and_resize; (0, 1) otherwise.</summary>
        private (double[] Start, double[] End) ReadRoi(KernelContext ctx, Tensor? roi, int[] axes, int rank)
        {
            var start = new double[rank];
            var end = Enumerable.Repeat(1.0, rank).ToArray();
            if (_settings.Coordinates != ResizeCoordinates.TfCropAndResize) return (start, end);
            if (roi is null) throw ctx.Fail("coordinate_transformation_mode 'tf_crop_and_resize' needs the 'roi' input");
            var v = ImageNumerics.ToDoubles(roi);
            if (v.Length != 2 * axes.Length) throw ctx.Fail($"'roi' has {v.Length} elements, expected {2 * axes.Length}");
            for (int i = 0; i < axes.Length; i++)
            {
                start[axes[i]] = v[i];
                end[axes[i]] = v[axes.Length + i];
            }
            return (start, end);
        }

        private static Tensor? NonEmpty(Tensor? t) => t is { Length: > 0 } ? t : null;

        private static bool IsClose(double a, double b) => Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b));
    }
}
