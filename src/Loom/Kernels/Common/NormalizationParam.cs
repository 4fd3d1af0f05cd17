namespace Loom.Kernels.Common;

/// <summary>
/// A scale or bias of a row-wise normalization (LayerNormalization, RMSNormalization), unidirectionally
/// broadcast to X and read as doubles. X is viewed as <c>[rows, rowLength]</c> split before
/// <c>axis</c>; the element for (row r, column j) is <c>values[rowOffset[r] + columnOffset[j]]</c>, so
/// any broadcastable shape works in one linear pass (the usual case, a tensor of the normalized shape,
/// has rowOffset 0 and columnOffset j).
/// </summary>
internal sealed class NormalizationParam
{
    private readonly double[] _values;
    private readonly int[] _rowOffset;
    private readonly int[] _columnOffset;

    private NormalizationParam(double[] values, int[] rowOffset, int[] columnOffset)
    {
        _values = values;
        _rowOffset = rowOffset;
        _columnOffset = columnOffset;
    }

    public double this[int row, int column] => _values[_rowOffset[row] + _columnOffset[column]];

    /// <summary>Null when <paramref name="param"/> cannot be unidirectionally broadcast to <paramref name="xShape"/>.</summary>
    public static NormalizationParam? Create(Tensor param, ReadOnlySpan<int> xShape, int axis)
    {
        int rank = xShape.Length;
        if (param.Rank > rank) return null;
        // Element stride of param along each dim of X (0 where param is broadcast).
        var strides = new int[rank];
        int stride = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            int pd = d - (rank - param.Rank);
            int size = pd >= 0 ? param.Shape[pd] : 1;
            if (size != 1 && size != xShape[d]) return null;
            strides[d] = size == 1 ? 0 : stride;
            stride *= size;
        }
        return new NormalizationParam(ReduceNumerics.ToDoubles(param), Offsets(xShape[..axis], strides[..axis]), Offsets(xShape[axis..], strides[axis..]));
    }

    /// <summary>Param offsets of every index of <paramref name="dims"/> in row-major order.</summary>
    private static int[] Offsets(ReadOnlySpan<int> dims, ReadOnlySpan<int> strides)
    {
        var result = new int[ShapeMath.Size(dims)];
        var index = new int[dims.Length];
        int offset = 0;
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = offset;
            for (int d = dims.Length - 1; d >= 0; d--)
            {
                offset += strides[d];
                if (++index[d] < dims[d]) break;
                offset -= strides[d] * index[d];
                index[d] = 0;
            }
        }
        return result;
    }
}
