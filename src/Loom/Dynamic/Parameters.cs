using Loom.Dynamic.Data;

namespace Loom.Dynamic;

/// <summary>
/// A shared parameter tensor (a matrix, or a vector as rows × 1) used by many expressions. Its values live
/// in a pinned array so batched kernels read it through raw pointers; <see cref="Version"/> changes on
/// every update, which tells kernels to repack their copies of it.
/// </summary>
public unsafe class Parameter
{
    private static int _nextId;
    private float[]? _grad;

    internal Parameter(string name, int rows, int cols)
    {
        if (rows <= 0 || cols <= 0) throw new ShapeException($"parameter '{name}' must have positive dimensions, not {rows}×{cols}");
        Name = name;
        Rows = rows;
        Cols = cols;
        Id = Interlocked.Increment(ref _nextId);
        Value = GC.AllocateArray<float>(rows * cols, pinned: true);
    }

    public string Name { get; }
    public int Rows { get; }
    public int Cols { get; }
    /// <summary>Unique across the process: the identity part of an operation's signature.</summary>
    public int Id { get; }
    /// <summary>Row-major values.</summary>
    public float[] Value { get; }
    public int Version { get; private set; }

    internal float* ValuePtr => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref Value[0]);
    internal float[] Grad => _grad ??= GC.AllocateArray<float>(Value.Length, pinned: true);
    internal float* GradPtr => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref Grad[0]);
    internal bool HasGrad => _grad is not null;

    private Loom.Kernels.Common.GemmPackedB? _packedT;
    private int _packedVersion = -1;

    /// <summary>Wᵀ packed as a GEMM right operand (K = Cols, N = Rows), rebuilt only after an update.</summary>
    internal Loom.Kernels.Common.GemmPackedB PackedTransposed()
    {
        if (_packedT is null || _packedVersion != Version)
        {
            _packedT = new Loom.Kernels.Common.GemmPackedB(Loom.Kernels.Common.GemmKernelSet.Best, Cols, Rows, ValuePtr, Cols, transposed: true);
            _packedVersion = Version;
        }
        return _packedT;
    }

    /// <summary>Call after changing <see cref="Value"/> from outside, so packed copies are rebuilt.</summary>
    public void MarkChanged() => Version++;

    /// <summary>Plain SGD on the accumulated gradient, then clears it.</summary>
    internal virtual void SgdStep(float learningRate)
    {
        if (_grad is null) return;
        var v = Value; var g = _grad;
        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(g, -learningRate, v, v);
        Array.Clear(g);
        Version++;
    }

    public override string ToString() => $"{Name}[{Rows}×{Cols}]";
}

/// <summary>A table of row vectors (word embeddings): row <c>id</c> is the vector of item <c>id</c>.</summary>
public sealed unsafe class LookupParameter : Parameter
{
    private readonly HashSet<int> _touched = [];

    internal LookupParameter(string name, int count, int dim) : base(name, count, dim) { }

    public int Count => Rows;
    public int Dim => Cols;

    internal float* Row(int id) => ValuePtr + (long)id * Cols;

    internal void AddGradRow(int id, float* g)
    {
        float* dst = GradPtr + (long)id * Cols;
        for (int j = 0; j < Cols; j++) dst[j] += g[j];
        _touched.Add(id);
    }

    /// <summary>Updates only the rows that received gradient, as DyNet does for lookup parameters.</summary>
    internal override void SgdStep(float learningRate)
    {
        if (!HasGrad) return;
        var v = Value; var g = Grad;
        foreach (int id in _touched)
        {
            var vs = v.AsSpan(id * Cols, Cols);
            var gs = g.AsSpan(id * Cols, Cols);
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(gs, -learningRate, vs, vs);
            gs.Clear();
        }
        _touched.Clear();
        MarkChanged();
    }
}

/// <summary>The parameters of a model, initialized like DyNet's default (Glorot uniform) from a seeded generator.</summary>
public sealed class ParameterCollection(ulong seed = 1)
{
    private readonly List<Parameter> _all = [];
    private SplitMix64 _rng = new(seed);

    public IReadOnlyList<Parameter> All => _all;

    /// <summary>A matrix (cols &gt; 1) or vector (cols = 1), uniform in ±√(3·rank / Σdims) like DyNet's Glorot initializer.</summary>
    public Parameter Add(string name, int rows, int cols = 1)
    {
        var p = new Parameter(name, rows, cols);
        Fill(p.Value, cols == 1 ? MathF.Sqrt(3f / rows) : MathF.Sqrt(6f / (rows + cols)));
        _all.Add(p);
        return p;
    }

    public LookupParameter AddLookup(string name, int count, int dim)
    {
        var p = new LookupParameter(name, count, dim);
        Fill(p.Value, MathF.Sqrt(3f / dim));
        _all.Add(p);
        return p;
    }

    /// <summary>One SGD step over every parameter with a gradient.</summary>
    public void SgdUpdate(float learningRate)
    {
        foreach (var p in _all) p.SgdStep(learningRate);
    }

    private void Fill(float[] v, float scale)
    {
        for (int i = 0; i < v.Length; i++) v[i] = (2 * _rng.NextFloat() - 1) * scale;
    }
}
