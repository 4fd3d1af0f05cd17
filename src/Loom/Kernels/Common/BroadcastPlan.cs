using System.Runtime.CompilerServices;

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
    private readonly int[][] _inputShapes;
    private readonly int[][] _cursorStrides; // outer strides of inputs 0..2, zeros for absent inputs

    private BroadcastPlan(int[][] inputShapes, int[] outShape, int[] outerDims, int[][] outerStrides, int[] outerOutStrides, int innerLength, int[] innerStrides)
    {
        _inputShapes = inputShapes;
        _cursorStrides = new int[MaxCursorInputs][];
        for (int k = 0; k < MaxCursorInputs; k++) _cursorStrides[k] = k < outerStrides.Length ? outerStrides[k] : new int[outerDims.Length];
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

    /// <summary>Number of rows (output elements over <see cref="InnerLength"/>).</summary>
    public int RowCount => InnerLength == 0 ? 0 : OutputLength / InnerLength;

    /// <summary>True when this plan was made for exactly these input shapes (so a kernel can reuse it).</summary>
    public bool Matches(ReadOnlySpan<int> a, ReadOnlySpan<int> b) =>
        _inputShapes.Length == 2 && a.SequenceEqual(_inputShapes[0]) && b.SequenceEqual(_inputShapes[1]);

    public bool Matches(ReadOnlySpan<int> a, ReadOnlySpan<int> b, ReadOnlySpan<int> c) =>
        _inputShapes.Length == 3 && a.SequenceEqual(_inputShapes[0]) && b.SequenceEqual(_inputShapes[1]) && c.SequenceEqual(_inputShapes[2]);

    /// <summary>0 if input <paramref name="k"/> repeats one element along a row, 1 if it advances.</summary>
    public int InnerStride(int k) => _innerStrides[k];

    /// <summary>The broadcast output shape of <paramref name="shapes"/>.</summary>
    public static int[] OutputShapeOf(params int[][] shapes)
    {
        var r = shapes[0];
        for (int i = 1; i < shapes.Length; i++) r = ShapeMath.Broadcast(r, shapes[i]);
        return r;
    }

    /// <summary>True when the two shapes broadcast together (so <see cref="Create"/> will not throw).</summary>
    public static bool CanBroadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        for (int i = 1; i <= Math.Min(a.Length, b.Length); i++)
            if (a[^i] != b[^i] && a[^i] != 1 && b[^i] != 1) return false;
        return true;
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
        return new BroadcastPlan(shapes.Select(sh => sh.ToArray()).ToArray(), outShape, outerDims, outerStrides, outerOut, inner, innerStrides);
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

    /// <summary>Largest number of merged outer dims and of inputs a <see cref="Cursor"/> handles.</summary>
    public const int MaxCursorRank = 8, MaxCursorInputs = 3;

    /// <summary>True when <see cref="CursorAt"/> can walk this plan (always but for rank &gt; 9 patterns).</summary>
    public bool SupportsCursor => _outerDims.Length <= MaxCursorRank && InputCount <= MaxCursorInputs;

    /// <summary>
    /// An allocation-free walk over the rows starting at <paramref name="row"/>, so parallel parts can each
    /// start at their own row. Row <c>r</c>'s output starts at <c>r * InnerLength</c>.
    /// </summary>
    public Cursor CursorAt(int row)
    {
        var c = new Cursor(this);
        for (int d = _outerDims.Length - 1; d >= 0 && row > 0; d--)
        {
            int i = row % _outerDims[d];
            row /= _outerDims[d];
            c.Index[d] = i;
            c.Offset0 += i * Stride(0, d);
            c.Offset1 += i * Stride(1, d);
            c.Offset2 += i * Stride(2, d);
        }
        return c;
    }

    private int Stride(int input, int d) => _cursorStrides[input][d];

    [InlineArray(MaxCursorRank)]
    public struct IndexBuffer { private int _element; }

    public struct Cursor
    {
        private readonly int[] _dims, _s0, _s1, _s2;
        internal IndexBuffer Index;

        /// <summary>Element offset of the current row's start in input 0, 1 and 2.</summary>
        public int Offset0, Offset1, Offset2;

        internal Cursor(BroadcastPlan p)
        {
            if (!p.SupportsCursor) throw new InvalidOperationException("plan too deep for a cursor");
            _dims = p._outerDims;
            _s0 = p._cursorStrides[0];
            _s1 = p._cursorStrides[1];
            _s2 = p._cursorStrides[2];
        }

        /// <summary>Moves to the next row (past the last row the offsets are meaningless).</summary>
        public void Next()
        {
            for (int d = _dims.Length - 1; d >= 0; d--)
            {
                int i = ++Index[d];
                Offset0 += _s0[d];
                Offset1 += _s1[d];
                Offset2 += _s2[d];
                if (i < _dims[d]) return;
                Offset0 -= _s0[d] * i;
                Offset1 -= _s1[d] * i;
                Offset2 -= _s2[d] * i;
                Index[d] = 0;
            }
        }
    }
}
