namespace Loom.Kernels.Common;

internal enum ResizeMode { Nearest, Linear, Cubic }

internal enum ResizeCoordinates { HalfPixel, HalfPixelSymmetric, PytorchHalfPixel, AlignCorners, Asymmetric, TfHalfPixelForNn, TfCropAndResize }

/// <summary>How a fractional source coordinate picks a pixel in nearest mode. <c>Simple</c> is Resize-10's and Upsample's rule.</summary>
internal enum ResizeNearest { RoundPreferFloor, RoundPreferCeil, Floor, Ceil, Simple }

/// <summary>The attributes of a Resize (or Upsample) node that decide how one axis is sampled.</summary>
internal sealed record ResizeSettings(
    ResizeMode Mode, ResizeCoordinates Coordinates, ResizeNearest Nearest,
    double CubicA, bool ExcludeOutside, double Extrapolation, bool Antialias);

/// <summary>
/// The sampling table of one resized axis, computed once per run: output position <c>o</c> reads input
/// positions <c>Index[o*Taps + k]</c> with weights <c>Weight[o*Taps + k]</c> (nearest mode has one tap of
/// weight 1). <c>Outside[o]</c> marks positions that take the extrapolation value (tf_crop_and_resize).
/// </summary>
internal sealed class ResizeAxis
{
    public required int Taps { get; init; }
    public required int[] Index { get; init; }
    public required double[] Weight { get; init; }
    public bool[]? Outside { get; init; }

    /// <summary>
    /// Builds the table for an axis of <paramref name="inLen"/> resized to <paramref name="outLen"/>.
    /// <paramref name="scale"/> is the scale the coordinate transform divides by (from the scales input,
    /// or sizes/input, or the aspect-ratio policy's common scale); roi is this axis' (start, end).
    /// </summary>
    public static ResizeAxis Build(ResizeSettings s, int inLen, int outLen, double scale, double roiStart, double roiEnd)
    {
        bool cropping = s.Coordinates == ResizeCoordinates.TfCropAndResize;
        var outside = cropping ? new bool[outLen] : null;
        if (s.Mode == ResizeMode.Nearest)
        {
            var index = new int[outLen];
            for (int o = 0; o < outLen; o++)
            {
                double x = SourceCoordinate(s.Coordinates, o, inLen, outLen, scale, roiStart, roiEnd);
                if (outside is not null) outside[o] = x < 0 || x > inLen - 1;
                index[o] = (int)Math.Clamp(NearestPixel(s.Nearest, x, scale), 0, inLen - 1);
            }
            return new ResizeAxis { Taps = 1, Index = index, Weight = [], Outside = outside };
        }

        // Antialiasing stretches the filter by 1/scale when downsampling, so more input pixels contribute.
        double filterScale = s.Antialias ? Math.Min(scale, 1.0) : 1.0;
        double support = s.Mode == ResizeMode.Linear ? 1 : 2;
        int first = (int)Math.Floor(-support / filterScale) + 1; // offset of the first tap from the pixel left of x
        int taps = 2 - 2 * first;
        var idx = new int[outLen * taps];
        var w = new double[outLen * taps];
        for (int o = 0; o < outLen; o++)
        {
            double x = SourceCoordinate(s.Coordinates, o, inLen, outLen, scale, roiStart, roiEnd);
            if (outside is not null) outside[o] = x < 0 || x > inLen - 1;
            // The pixel left of x, taking x itself as "right" when it is an integer (ONNX's convention,
            // which keeps the fractional part in (0, 1]).
            long left = (long)Math.Ceiling(x) - 1;
            double sum = 0;
            for (int k = 0; k < taps; k++)
            {
                long p = left + first + k;
                double t = filterScale * (p - x);
                double weight = s.Mode == ResizeMode.Linear ? Math.Max(0, 1 - Math.Abs(t)) : Cubic(t, s.CubicA);
                if (s.ExcludeOutside && (p < 0 || p >= inLen)) weight = 0;
                w[o * taps + k] = weight;
                idx[o * taps + k] = (int)Math.Clamp(p, 0, inLen - 1);
                sum += weight;
            }
            if ((s.Antialias || s.ExcludeOutside) && sum != 0)
                for (int k = 0; k < taps; k++) w[o * taps + k] /= sum;
        }
        return new ResizeAxis { Taps = taps, Index = idx, Weight = w, Outside = outside };
    }

    /// <summary>
    /// The input coordinate output position <paramref name="y"/> maps to. align_corners and
    /// tf_crop_and_resize divide by the unrounded output length scale * inLen, as ONNX's reference
    /// (which generated the conformance data) does; ONNX Runtime uses the rounded length there.
    /// </summary>
    public static double SourceCoordinate(ResizeCoordinates mode, int y, int inLen, int outLen, double scale, double roiStart, double roiEnd)
    {
        double outWidth = scale * inLen;
        switch (mode)
        {
            case ResizeCoordinates.HalfPixel: return (y + 0.5) / scale - 0.5;
            case ResizeCoordinates.HalfPixelSymmetric:
                // Keeps the centre of the input on the centre of the output when the output length
                // had to be rounded down from scale * inLen.
                double offset = inLen / 2.0 * (1 - outLen / outWidth);
                return offset + (y + 0.5) / scale - 0.5;
            case ResizeCoordinates.PytorchHalfPixel: return outLen > 1 ? (y + 0.5) / scale - 0.5 : 0;
            case ResizeCoordinates.AlignCorners: return outWidth == 1 ? 0 : y * (inLen - 1.0) / (outWidth - 1);
            case ResizeCoordinates.Asymmetric: return y / scale;
            case ResizeCoordinates.TfHalfPixelForNn: return (y + 0.5) / scale;
            case ResizeCoordinates.TfCropAndResize:
                double start = roiStart * (inLen - 1);
                return outWidth == 1 ? 0.5 * (roiEnd - roiStart) * (inLen - 1) + start : start + y * (roiEnd - roiStart) * (inLen - 1) / (outWidth - 1);
            default: throw new ArgumentOutOfRangeException(nameof(mode));
        }
    }

    private static double NearestPixel(ResizeNearest mode, double x, double scale)
    {
        double floor = Math.Floor(x);
        return mode switch
        {
            ResizeNearest.RoundPreferFloor => x - floor <= 0.5 ? floor : floor + 1,
            ResizeNearest.RoundPreferCeil => x - floor < 0.5 ? floor : floor + 1,
            ResizeNearest.Floor => floor,
            ResizeNearest.Ceil => Math.Ceiling(x),
            ResizeNearest.Simple => scale < 1 ? Math.Ceiling(x) : Math.Truncate(x),
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
    }

    /// <summary>Keys' cubic convolution kernel with coefficient <paramref name="a"/>.</summary>
    private static double Cubic(double t, double a)
    {
        t = Math.Abs(t);
        if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
        if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
        return 0;
    }
}
