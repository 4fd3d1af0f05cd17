using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels.Common;

/// <summary>
/// A tile epilogue (<see cref="GemmTileEpilogue"/>) unpacked once into vectors, so the micro-kernels that finish their
/// accumulators with it share one set-up and one formula: (acc + bias[row]) + residual, then the activation — the order and
/// formulas of FusedActivation.ApplyRow, so tiles finished here and partial tiles finished there agree to the bit. Built
/// after the k loop, and inlined, its fields stay in registers. One struct per vector width: .NET 10 does not make
/// <c>ISimdVector</c> public, which one generic struct would need.
/// </summary>
internal readonly unsafe struct TileFinish512
{
    private readonly float* _bias, _residual;
    private readonly nint _ldr;
    private readonly int _mode;
    private readonly Vector512<float> _lo, _hi, _a, _b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TileFinish512(GemmTileEpilogue* ep)
    {
        _bias = ep->Bias;
        _residual = ep->Residual;
        _ldr = ep->Ldr;
        _mode = (int)ep->Mode;
        _lo = Vector512.Create(ep->Lo);
        _hi = Vector512.Create(ep->Hi);
        _a = Vector512.Create(ep->A);
        _b = Vector512.Create(ep->B);
    }

    /// <summary>The tile's vector at <paramref name="row"/> and column <paramref name="col"/>, finished: bias, residual, activation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> At(Vector512<float> v, int row, int col)
    {
        if (_bias != null) v += Vector512.Create(_bias[row]);
        if (_residual != null) v += Vector512.Load(_residual + row * _ldr + col);
        return Activate(v);
    }

    /// <summary>The activation alone (a caller that added its own bias and has no residual).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Activate(Vector512<float> v) => _mode switch
    {
        (int)TileActivation.Clamp => Vector512.Min(Vector512.Max(v, _lo), _hi),
        (int)TileActivation.HardSigmoid => Vector512.Min(Vector512.Max(_a * v + _b, _lo), _hi),
        (int)TileActivation.HardSwish => v * Vector512.Min(Vector512.Max(_a * v + _b, _lo), _hi),
        (int)TileActivation.LeakyRelu => Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(v, Vector512<float>.Zero), v, v * _a),
        _ => v,
    };
}

/// <summary><see cref="TileFinish512"/> for 256-bit tiles (the AVX2 kernels).</summary>
internal readonly unsafe struct TileFinish256
{
    private readonly float* _bias, _residual;
    private readonly nint _ldr;
    private readonly int _mode;
    private readonly Vector256<float> _lo, _hi, _a, _b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TileFinish256(GemmTileEpilogue* ep)
    {
        _bias = ep->Bias;
        _residual = ep->Residual;
        _ldr = ep->Ldr;
        _mode = (int)ep->Mode;
        _lo = Vector256.Create(ep->Lo);
        _hi = Vector256.Create(ep->Hi);
        _a = Vector256.Create(ep->A);
        _b = Vector256.Create(ep->B);
    }

    /// <inheritdoc cref="TileFinish512.At"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> At(Vector256<float> v, int row, int col)
    {
        if (_bias != null) v += Vector256.Create(_bias[row]);
        if (_residual != null) v += Vector256.Load(_residual + row * _ldr + col);
        return Activate(v);
    }

    /// <inheritdoc cref="TileFinish512.Activate"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Activate(Vector256<float> v) => _mode switch
    {
        (int)TileActivation.Clamp => Vector256.Min(Vector256.Max(v, _lo), _hi),
        (int)TileActivation.HardSigmoid => Vector256.Min(Vector256.Max(_a * v + _b, _lo), _hi),
        (int)TileActivation.HardSwish => v * Vector256.Min(Vector256.Max(_a * v + _b, _lo), _hi),
        (int)TileActivation.LeakyRelu => Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(v, Vector256<float>.Zero), v, v * _a),
        _ => v,
    };
}

/// <summary><see cref="TileFinish512"/> for <see cref="Vector{T}"/> tiles (the portable kernels).</summary>
internal readonly unsafe struct TileFinishVector
{
    private readonly float* _bias, _residual;
    private readonly nint _ldr;
    private readonly int _mode;
    private readonly Vector<float> _lo, _hi, _a, _b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TileFinishVector(GemmTileEpilogue* ep)
    {
        _bias = ep->Bias;
        _residual = ep->Residual;
        _ldr = ep->Ldr;
        _mode = (int)ep->Mode;
        _lo = new Vector<float>(ep->Lo);
        _hi = new Vector<float>(ep->Hi);
        _a = new Vector<float>(ep->A);
        _b = new Vector<float>(ep->B);
    }

    /// <inheritdoc cref="TileFinish512.At"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<float> At(Vector<float> v, int row, int col)
    {
        if (_bias != null) v += new Vector<float>(_bias[row]);
        if (_residual != null) v += Unsafe.ReadUnaligned<Vector<float>>(_residual + row * _ldr + col);
        return Activate(v);
    }

    /// <inheritdoc cref="TileFinish512.Activate"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector<float> Activate(Vector<float> v) => _mode switch
    {
        (int)TileActivation.Clamp => Vector.Min(Vector.Max(v, _lo), _hi),
        (int)TileActivation.HardSigmoid => Vector.Min(Vector.Max(_a * v + _b, _lo), _hi),
        (int)TileActivation.HardSwish => v * Vector.Min(Vector.Max(_a * v + _b, _lo), _hi),
        (int)TileActivation.LeakyRelu => Vector.ConditionalSelect(Vector.GreaterThanOrEqual(v, Vector<float>.Zero), v, v * _a),
        _ => v,
    };
}
