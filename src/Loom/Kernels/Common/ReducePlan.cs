namespace Loom.Kernels.Common;

/// <summary>
/// Walks a tensor reduced over any set of axes as contiguous input rows, each tied to output elements.
/// Adjacent dims that are both reduced or both kept are merged, so the input is a sequence of groups
/// alternating between reduced and kept. The innermost group decides what a row is:
/// <list type="bullet">
/// <item>reduced (<see cref="RowReduces"/>): the whole row folds into one output element;</item>
/// <item>kept: row element <c>j</c> folds into output element <c>outputOffset + j</c>.</item>
/// </list>
/// The same walk broadcasts per-output statistics back over the input (normalizations), so reductions
/// and normalizations share one linear pass with no per-element index arithmetic.
/// </summary>
internal sealed class ReducePlan
{
    private readonly int[] _outerSizes;     // merged groups except the innermost
    private readonly int[] _outerOutStrides; // output stride of each outer group (0 if reduced)

    private readonly int[] _inputShape;
    private readonly ulong _reducedMask; // bit d set when axis d is reduced (ranks up to 64)

    private ReducePlan(int[] inputShape, ulong reducedMask, int[] outputShape, int inputLength, int outputLength, long reducedCount,
        bool rowReduces, int rowLength, int[] outerSizes, int[] outerOutStrides)
    {
        _inputShape = inputShape;
        _reducedMask = reducedMask;
        OutputShape = outputShape;
        InputLength = inputLength;
        OutputLength = outputLength;
        ReducedCount = reducedCount;
        RowReduces = rowReduces;
        RowLength = rowLength;
        _outerSizes = outerSizes;
        _outerOutStrides = outerOutStrides;
    }

    /// <summary>Output shape (reduced axes kept as 1 or dropped, per keepdims).</summary>
    public int[] OutputShape { get; }
    public int InputLength { get; }
    public int OutputLength { get; }

    /// <summary>How many input elements fold into each output element (product of the reduced dims).</summary>
    public long ReducedCount { get; }

    /// <summary>True when a row folds into one output element; false when it maps onto a run of outputs.</summary>
    public bool RowReduces { get; }
    public int RowLength { get; }

    /// <summary>True when this plan reduces exactly this shape over the axes in <paramref name="reducedMask"/> (bit d for axis d).</summary>
    public bool Matches(ReadOnlySpan<int> shape, ulong reducedMask) => reducedMask == _reducedMask && shape.SequenceEqual(_inputShape);

    /// <summary>True when each output element folds exactly one input row, the rows in output order (only the innermost axes are reduced).</summary>
    public bool OneRowPerOutput => RowReduces && RowLength == ReducedCount;

    /// <summary>A plan reducing <paramref name="shape"/> over <paramref name="reduced"/> (normalized, distinct axes).</summary>
    public static ReducePlan Create(ReadOnlySpan<int> shape, IReadOnlyCollection<int> reduced, bool keepDims)
    {
        int rank = shape.Length;
        var isReduced = new bool[rank];
        foreach (var a in reduced) isReduced[a] = true;

        var outShape = new List<int>(rank);
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            if (!isReduced[d]) outShape.Add(shape[d]);
            else { count *= shape[d]; if (keepDims) outShape.Add(1); }
        }

        // Merge dims into groups; size-1 dims affect neither input nor output offsets, so drop them.
        var sizes = new List<int>();
        var groupReduced = new List<bool>();
        for (int d = 0; d < rank; d++)
        {
            if (shape[d] == 1) continue;
            if (sizes.Count > 0 && groupReduced[^1] == isReduced[d]) sizes[^1] *= shape[d];
            else { sizes.Add(shape[d]); groupReduced.Add(isReduced[d]); }
        }
        if (sizes.Count == 0) { sizes.Add(1); groupReduced.Add(false); }

        int groups = sizes.Count;
        var outStrides = new int[groups];
        int stride = 1;
        for (int g = groups - 1; g >= 0; g--)
        {
            outStrides[g] = groupReduced[g] ? 0 : stride;
            if (!groupReduced[g]) stride *= sizes[g];
        }

        int inputLength = (int)ShapeMath.Size(shape);
        int outputLength = (int)ShapeMath.Size(outShape.ToArray());
        ulong mask = 0;
        foreach (var a in reduced) mask |= 1UL << a;
        return new ReducePlan(shape.ToArray(), mask, outShape.ToArray(), inputLength, outputLength, count,
            groupReduced[^1], sizes[^1], sizes.Take(groups - 1).ToArray(), outStrides.Take(groups - 1).ToArray());
    }

    /// <summary>Iterates the input rows; after each <see cref="Rows.MoveNext"/> the offsets point at the row's first elements.</summary>
    public Rows GetRows() => new(this);

    public struct Rows
    {
        private readonly ReducePlan _p;
        private IndexBuffer _small;      // the outer index when there are at most 8 outer groups (no allocation)
        private readonly int[]? _large;  // otherwise
        private int _in, _out;
        private bool _started;

        internal Rows(ReducePlan p)
        {
            _p = p;
            _large = p._outerSizes.Length > 8 ? new int[p._outerSizes.Length] : null;
            _in = 0;
            _out = 0;
            _started = false;
        }

        /// <summary>Offset of the row's first element in the input.</summary>
        public readonly int InputOffset => _in;

        /// <summary>Offset of the output element (or run of elements) the row folds into.</summary>
        public readonly int OutputOffset => _out;

        public bool MoveNext()
        {
            if (!_started) { _started = true; return _p.InputLength > 0; }
            _in += _p.RowLength;
            Span<int> index = _large is null ? _small : _large;
            for (int d = _p._outerSizes.Length - 1; d >= 0; d--)
            {
                _out += _p._outerOutStrides[d];
                if (++index[d] < _p._outerSizes[d]) return true;
                _out -= _p._outerOutStrides[d] * index[d];
                index[d] = 0;
            }
            return false;
        }
    }

    [System.Runtime.CompilerServices.InlineArray(8)]
    private struct IndexBuffer { private int _element; }
}
