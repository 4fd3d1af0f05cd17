namespace Loom.Kernels.Common;

/// <summary>
/// Which scale and zero point applies to each element of a (de)quantized tensor: one for the whole
/// tensor, one per index along an axis (1-D scale), or one per block of <c>block_size</c> indices along
/// the axis (scale of the input's rank). Elements are walked as (outer, axis index, inner).
/// </summary>
internal readonly struct QuantLayout
{
    private enum Mode { PerTensor, PerAxis, Blocked }

    private readonly Mode _mode;
    public int Outer { get; private init; }
    public int AxisLength { get; private init; }
    public int Inner { get; private init; }
    private readonly int _block, _scaleAxisLength;

    private QuantLayout(Mode mode, int outer, int axisLength, int inner, int block, int scaleAxisLength)
    {
        _mode = mode;
        Outer = outer;
        AxisLength = axisLength;
        Inner = inner;
        _block = block;
        _scaleAxisLength = scaleAxisLength;
    }

    public static QuantLayout Create(ReadOnlySpan<int> x, ReadOnlySpan<int> scale, long axis, long blockSize, Func<string, Exception> fail)
    {
        int n = (int)ShapeMath.Size(x);
        if (ShapeMath.Size(scale) == 1 && (scale.Length <= 1 || blockSize == 0))
            return new QuantLayout(Mode.PerTensor, 1, n, 1, 1, 1);
        if (axis < -x.Length || axis >= x.Length) throw fail($"axis {axis} is out of range for rank {x.Length}");
        int ax = (int)(axis < 0 ? axis + x.Length : axis);
        int outer = (int)ShapeMath.Size(x[..ax]), inner = (int)ShapeMath.Size(x[(ax + 1)..]), len = x[ax];
        if (blockSize <= 0)
        {
            if (scale.Length != 1 || scale[0] != len)
                throw fail($"scale of shape {ShapeMath.Format(scale)} is neither a scalar nor a vector of the {len} elements along axis {ax}");
            return new QuantLayout(Mode.PerAxis, outer, len, inner, 1, len);
        }
        if (scale.Length != x.Length) throw fail($"blocked quantization needs a scale of rank {x.Length}, not {ShapeMath.Format(scale)}");
        for (int d = 0; d < x.Length; d++)
        {
            if (d == ax) continue;
            if (scale[d] != x[d]) throw fail($"scale shape {ShapeMath.Format(scale)} must equal input shape {ShapeMath.Format(x)} except along axis {ax}");
        }
        if (blockSize > int.MaxValue || (len + blockSize - 1) / blockSize != scale[ax])
            throw fail($"block_size {blockSize} does not fit {len} elements into {scale[ax]} blocks along axis {ax}");
        return new QuantLayout(Mode.Blocked, outer, len, inner, (int)blockSize, scale[ax]);
    }

    /// <summary>The scale index of element (outer o, axis index a, inner i).</summary>
    public int ScaleIndex(int o, int a, int i) => _mode switch
    {
        Mode.PerTensor => 0,
        Mode.PerAxis => a,
        _ => (o * _scaleAxisLength + a / _block) * Inner + i,
    };
}
