using Loom.Runtime;

namespace Loom.Kernels.Common;

internal enum PadMode { Constant, Reflect, Edge, Wrap }

/// <summary>
/// Pad (and CenterCropPad) as one linear pass: each output axis gets a map from output index to source
/// index (-1 = the constant). Negative pads crop first; the positive ones then pad the cropped tensor.
/// Output rows whose outer coordinates map to -1 are filled; within a row the unpadded middle is one
/// bulk copy and only the pads are looked up one by one.
/// </summary>
internal static class ShapePadding
{
    public static PadMode ParseMode(string mode, int opset, KernelInfo info) => mode switch
    {
        "constant" => PadMode.Constant,
        "reflect" => PadMode.Reflect,
        "edge" => PadMode.Edge,
        "wrap" when opset >= 19 => PadMode.Wrap,
        _ => throw info.Fail($"pad mode '{mode}' is not supported at opset {opset}"),
    };

    /// <summary>Pads (or crops, where negative) each axis of <paramref name="x"/> by begin[d] / end[d].</summary>
    public static void Pad<T>(KernelContext ctx, Tensor x, ReadOnlySpan<long> begin, ReadOnlySpan<long> end, PadMode mode, T value)
    {
        int rank = x.Rank;
        var outShape = new int[rank];
        var maps = new int[rank][];
        var middle = new (int Out, int Src, int Length)[rank];
        for (int d = 0; d < rank; d++)
        {
            long dim = x.Shape[d], size = dim + begin[d] + end[d];
            if (size < 0 || size > int.MaxValue) throw ctx.Fail($"pads {begin[d]}, {end[d]} on axis {d} of {ShapeMath.Format(x.Shape)} give the size {size}");
            outShape[d] = (int)size;
            int lo = (int)Math.Max(0, -begin[d]), hi = (int)(dim - Math.Max(0, -end[d]));
            int length = Math.Max(0, hi - lo), before = (int)Math.Max(0, begin[d]);
            if (length == 0 && size > 0 && mode != PadMode.Constant)
                throw ctx.Fail($"cannot pad an empty axis {d} of {ShapeMath.Format(x.Shape)} in {mode.ToString().ToLowerInvariant()} mode");
            var map = maps[d] = new int[size];
            for (int o = 0; o < map.Length; o++) map[o] = Source(o - before, length, mode) is var i && i >= 0 ? lo + i : -1;
            middle[d] = (before, lo, Math.Min(length, (int)size - before));
        }
        var y = ctx.AllocateOutput(0, x.DataType, outShape);
        if (y.Length == 0) return;
        var src = ShapeStorage.Elements<T>(x);
        var dst = ShapeStorage.Elements<T>(y);
        if (rank == 0) { dst[0] = src[0]; return; }

        var strides = ShapeMath.Strides(x.Shape);
        int cols = outShape[rank - 1], rows = y.Length / cols;
        var lastMap = maps[rank - 1];
        var (midOut, midSrc, midLength) = middle[rank - 1];
        var index = new int[rank - 1];
        for (int r = 0; r < rows; r++)
        {
            var row = dst.Slice(r * cols, cols);
            int offset = 0;
            bool padded = false;
            for (int d = 0; d < rank - 1; d++)
            {
                int s = maps[d][index[d]];
                if (s < 0) { padded = true; break; }
                offset += s * strides[d];
            }
            if (padded) row.Fill(value);
            else
            {
                for (int o = 0; o < cols; o++)
                {
                    if (o == midOut && midLength > 0) { src.Slice(offset + midSrc, midLength).CopyTo(row.Slice(o, midLength)); o += midLength - 1; continue; }
                    int s = lastMap[o];
                    row[o] = s < 0 ? value : src[offset + s];
                }
            }
            for (int d = rank - 2; d >= 0 && ++index[d] == outShape[d]; d--) index[d] = 0;
        }
    }

    /// <summary>The source index for padded position <paramref name="i"/> (relative to the kept run of <paramref name="length"/>), or -1 for the constant.</summary>
    private static int Source(int i, int length, PadMode mode)
    {
        if (i >= 0 && i < length) return i;
        switch (mode)
        {
            case PadMode.Edge: return i < 0 ? 0 : length - 1;
            case PadMode.Wrap: return ((i % length) + length) % length;
            case PadMode.Reflect:
                if (length == 1) return 0;
                int period = 2 * (length - 1), m = ((i % period) + period) % period;
                return m < length ? m : period - m;
            default: return -1;
        }
    }
}
