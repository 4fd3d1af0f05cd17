namespace Loom.Kernels.Common;

/// <summary>
/// Applies per-axis <see cref="ResizeAxis"/> tables to a tensor. Nearest mode gathers elements of any
/// dtype directly; linear and cubic resizing is separable, so it runs one axis at a time in double and
/// rounds once at the end (as ONNX's reference does).
/// </summary>
internal static class ImageResampler
{
    /// <summary>Nearest-neighbour gather; <paramref name="axes"/>[d] is null where axis d is unchanged.</summary>
    public static void Gather(Tensor input, Tensor output, ResizeAxis?[] axes, double extrapolation) =>
        ImageGather.Dispatch(input.DataType, new NearestGather(input, output, axes, extrapolation));

    private readonly record struct NearestGather(Tensor Input, Tensor Output, ResizeAxis?[] Axes, double Extrapolation) : IElementTypeAction
    {
        public void Invoke<T>() => Gather<T>(Input, Output, Axes, Extrapolation);
    }

    private static void Gather<T>(Tensor input, Tensor output, ResizeAxis?[] axes, double extrapolation)
    {
        int rank = input.Rank;
        var inStrides = ShapeMath.Strides(input.Shape);
        var outDims = output.Dims;
        if (output.Length == 0) return;
        // Per axis, the input offset each output index reads, or -1 where it takes the extrapolation value.
        var offsets = new int[rank][];
        for (int d = 0; d < rank; d++)
        {
            var table = new int[outDims[d]];
            for (int o = 0; o < table.Length; o++)
                table[o] = axes[d] is { } a ? (a.Outside?[o] == true ? -1 : a.Index[o] * inStrides[d]) : o * inStrides[d];
            offsets[d] = table;
        }
        T fill = default!;
        if (axes.Any(a => a?.Outside is not null) && input.DataType != DataType.String)
            fill = ImageNumerics.ScalarOf(input.DataType, extrapolation).AsSpan<T>()[0];
        else if (input.DataType == DataType.String) fill = (T)(object)string.Empty;

        var src = input.AsReadOnlySpan<T>();
        var dst = output.AsSpan<T>();
        var counter = new int[rank];
        var inner = offsets[rank - 1];
        int repeat = RepeatFactor(inner, input.Dims[rank - 1]);
        int pos = 0, previous = int.MinValue;
        while (true)
        {
            // Offset of the outer indices; -1 when one of them is outside the crop.
            int baseOffset = 0;
            for (int d = 0; d < rank - 1 && baseOffset >= 0; d++)
            {
                int off = offsets[d][counter[d]];
                baseOffset = off < 0 ? -1 : baseOffset + off;
            }
            var row = dst.Slice(pos, inner.Length);
            // A row depends on its source row only: upsampling repeats source rows, and a repeat is a copy of the row before
            // (the detector's FPN neck upsamples 96×80×80 planes by 2 and 24×20×20 by 8: half to 7/8 of the rows).
            if (baseOffset == previous) dst.Slice(pos - inner.Length, inner.Length).CopyTo(row);
            else if (baseOffset >= 0 && repeat > 0) RepeatRow(src.Slice(baseOffset, inner.Length / repeat), row, repeat);
            else
                for (int i = 0; i < inner.Length; i++)
                    row[i] = baseOffset < 0 || inner[i] < 0 ? fill : src[baseOffset + inner[i]];
            previous = baseOffset;
            pos += inner.Length;
            int k = rank - 2;
            while (k >= 0 && ++counter[k] == outDims[k]) counter[k--] = 0;
            if (k < 0) break;
        }
    }

    /// <summary>
    /// f when the innermost axis repeats each of its <paramref name="inLen"/> source elements f times in order (nearest
    /// upsampling by a whole factor with floor or asymmetric coordinates), else 0.
    /// </summary>
    private static int RepeatFactor(int[] inner, int inLen)
    {
        if (inLen == 0 || inner.Length % inLen != 0) return 0;
        int f = inner.Length / inLen;
        for (int i = 0; i < inner.Length; i++)
            if (inner[i] != i / f) return 0;
        return f;
    }

    /// <summary>Each element of <paramref name="source"/> <paramref name="f"/> times in a row.</summary>
    private static void RepeatRow<T>(ReadOnlySpan<T> source, Span<T> row, int f)
    {
        if (f == 1) source.CopyTo(row);
        else if (f == 2)
            for (int j = 0, o = 0; j < source.Length; j++, o += 2)
            {
                row[o] = source[j];
                row[o + 1] = source[j];
            }
        else
            for (int j = 0, o = 0; j < source.Length; j++, o += f)
                row.Slice(o, f).Fill(source[j]);
    }

    /// <summary>
    /// Linear or cubic resampling, axis by axis in double; <paramref name="axes"/>[d] is null where axis d
    /// is unchanged. Integer results are rounded when <paramref name="roundIntegers"/>, else truncated
    /// toward zero: ONNX Runtime rounds in its antialiasing filters and truncates otherwise (ONNX's
    /// reference always rounds).
    /// </summary>
    public static void Interpolate(Tensor input, Tensor output, ResizeAxis?[] axes, double extrapolation, bool roundIntegers)
    {
        if (output.Length == 0) return;
        var data = ImageNumerics.ToDoubles(input);
        var dims = input.Shape.ToArray();
        // Shrinking axes first keeps the intermediate tensors small.
        var order = Enumerable.Range(0, axes.Length).Where(d => axes[d] is not null)
            .OrderBy(d => (double)output.Dims[d] / Math.Max(1, dims[d])).ToList();
        // ONNX Runtime's 8-bit antialiasing filters store each pass as rounded bytes, innermost axis first.
        bool bytePasses = roundIntegers && input.DataType is DataType.UInt8 or DataType.Int8;
        if (bytePasses) order.Sort((a, b) => b.CompareTo(a));
        foreach (int d in order)
        {
            int outLen = output.Dims[d];
            data = ResampleAxis(data, dims, d, outLen, axes[d]!, extrapolation);
            dims[d] = outLen;
            if (bytePasses)
            {
                double lo = input.DataType == DataType.UInt8 ? 0 : -128, hi = input.DataType == DataType.UInt8 ? 255 : 127;
                for (int i = 0; i < data.Length; i++) data[i] = Math.Clamp(Math.Floor(data[i] + 0.5), lo, hi);
            }
        }
        ImageNumerics.Store(data, output, truncate: !roundIntegers);
    }

    private static double[] ResampleAxis(double[] src, int[] dims, int axis, int outLen, ResizeAxis table, double extrapolation)
    {
        int inLen = dims[axis];
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= dims[d];
        for (int d = axis + 1; d < dims.Length; d++) inner *= dims[d];
        var dst = new double[checked(outer * outLen * inner)];
        int taps = table.Taps, n = (int)inner;
        for (long b = 0; b < outer; b++)
        {
            long srcBase = b * inLen * inner, dstBase = b * outLen * inner;
            for (int o = 0; o < outLen; o++)
            {
                var row = dst.AsSpan((int)(dstBase + o * inner), n);
                if (table.Outside?[o] == true) { row.Fill(extrapolation); continue; }
                for (int k = 0; k < taps; k++)
                {
                    double w = table.Weight[o * taps + k];
                    var from = src.AsSpan((int)(srcBase + table.Index[o * taps + k] * inner), n);
                    for (int j = 0; j < n; j++) row[j] += w * from[j];
                }
            }
        }
        return dst;
    }
}
