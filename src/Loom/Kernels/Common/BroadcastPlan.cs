namespace Loom.Kernels.Common;

/// <summary>
/// NumPy-style broadcasting of several inputs to one output shape, walked row by row: each row is a
/// run of <see cref="InnerLength"/> output elements over which every input either advances by one
/// element or stays put (stride 1 or 0). Adjacent dims that broadcast alike are merged first, so an
/// elementwise op on same-shape inputs is one long row.
/// </summary>
internal sealed class BroadcastPlan
{
    private readonly int[] _outerDims;      // merged dims except the innermost
    private readonly int[][] _outerStrides; // per input, element strides for the outer dims (0 = broadcast)
    private readonly int[] _outerOutStrides;
    private readonly int[] _innerStrides;   // per input, 0 or 1

    private BroadcastPlan(int[] outShape, int[] outerDims, int[][] outerStrides, int[] outerOutStrides, int innerLength, int[] innerStrides)
    {
        OutputShape = outShape;
        _outerDims = outerDims;
        _outerStrides = outerStrides;
        _outerOutStrides = outerOutStrides;
        InnerLength = innerLength;
        _innerStrides = innerStrides;
        OutputLength = (int)ShapeMath.Size(outShape);
    }

    public int[] OutputShape { get; }
    public int OutputLength { get; }
    public int InnerLength { get; }
    public int InputCount => _innerStrides.Length;

    /// <summary>0 if input <paramref name="k"/> repeats one element along a row, 1 if it advances.</summary>
    public int InnerStride(int k) => _innerStrides[k];

    /// <summary>The broadcast output shape of <paramref name="shapes"/>.</summary>
    public static int[] OutputShapeOf(params int[][] shapes)
    {
        var r = shapes[0];
        for (int i = 1; i < shapes.Length; i++) r = ShapeMath.Broadcast(r, shapes[i]);
        return r;
    }

    public static BroadcastPlan Create(params int[][] shapes)
    {
        var outShape = OutputShapeOf(shapes);
        int rank = outShape.Length, n = shapes.Length;
        // Per input, per output dim: its stride (0 where broadcast or size 1).
        var strides = new int[n][];
        for (int k = 0; k < n; k++)
        {
            var s = shapes[k];
            var full = new int[rank];
            int acc = 1;
            for (int d = rank - 1; d >= 0; d--)
            {
                int sd = d - (rank - s.Length);
                int size = sd >= 0 ? s[sd] : 1;
                full[d] = size == 1 ? 0 : acc;
                acc *= size;
            }
            strides[k] = full;
        }
        // Merge adjacent dims d-1, d when, for every input, stride[d-1] == stride[d] * dim[d].
        var dims = new List<int>();
        var merged = new List<int[]>();
        for (int d = 0; d < rank; d++)
        {
            if (outShape[d] == 1) continue;
            var col = new int[n];
            for (int k = 0; k < n; k++) col[k] = strides[k][d];
            if (dims.Count > 0)
            {
                var prev = merged[^1];
                bool canMerge = true;
                for (int k = 0; k < n; k++)
                    if (prev[k] != col[k] * outShape[d]) { canMerge = false; break; }
                if (canMerge)
                {
                    dims[^1] *= outShape[d];
                    merged[^1] = col;
                    continue;
                }
            }
            dims.Add(outShape[d]);
            merged.Add(col);
        }
        if (dims.Count == 0) { dims.Add(1); merged.Add(new int[n]); }

        // The innermost merged dim has stride 1 or 0 in every input: later dims are all size 1.
        int inner = dims[^1];
        var innerStrides = new int[n];
        for (int k = 0; k < n; k++) innerStrides[k] = merged[^1][k];
        var outerDims = dims.Take(dims.Count - 1).ToArray();
        var outerStrides = new int[n][];
        for (int k = 0; k < n; k++) outerStrides[k] = merged.Take(dims.Count - 1).Select(c => c[k]).ToArray();
        var outerOut = new int[outerDims.Length];
        int o = inner;
        for (int d = outerDims.Length - 1; d >= 0; d--) { outerOut[d] = o; o *= outerDims[d]; }
        return new BroadcastPlan(outShape, outerDims, outerStrides, outerOut, inner, innerStrides);
    }

    /// <summary>Iterates the rows; after each <see cref="Rows.MoveNext"/>, offsets point at the row's first elements.</summary>
    public Rows GetRows() => new(this);

    public struct Rows
    {
        private readonly BroadcastPlan _p;
        private readonly int[] _index;
        private readonly int[] _offsets;
        private int _out;
        private bool _started;

        internal Rows(BroadcastPlan p)
        {
            _p = p;
            _index = new int[p._outerDims.Length];
            _offsets = new int[p.InputCount];
            _out = 0;
            _started = false;
        }

        public readonly int OutputOffset => _out;
        public readonly int Offset(int input) => _offsets[input];

        public bool MoveNext()
        {
            if (!_started) { _started = true; return _p.OutputLength > 0; }
            for (int d = _index.Length - 1; d >= 0; d--)
            {
                _index[d]++;
                _out += _p._outerOutStrides[d];
                for (int k = 0; k < _offsets.Length; k++) _offsets[k] += _p._outerStrides[k][d];
                if (_index[d] < _p._outerDims[d]) return true;
                _out -= _p._outerOutStrides[d] * _index[d];
                for (int k = 0; k < _offsets.Length; k++) _offsets[k] -= _p._outerStrides[k][d] * _index[d];
                _index[d] = 0;
            }
            return false;
        }
    }
}
