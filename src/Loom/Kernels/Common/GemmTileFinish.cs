using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels.Common;

/// <summary>
/// A tile epilogue (<see cref="GemmTileEpilogue"/>) unpacked once into vectors, so the micro-kernels that finish their
/// accumulators with it share one set-up: <see cref="At"/> is <see cref="GemmMicroKernels.Finish(Vector512{float}, float*, int, float*, float*, Vector512{float}, Vector512{float}, Vector512{float}, Vector512{float}, int)"/>
/// for the vector at (row, col) of the tile. Built after the k loop, and inlined, its fields stay in registers.
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
    public Vector512<float> At(Vector512<float> v, int row, int col) =>
        GemmMicroKernels.Finish(v, _bias, row, _residual, _residual + row * _ldr + col, _lo, _hi, _a, _b, _mode);

    /// <summary>The activation alone (a caller that added its own bias and has no residual).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<float> Activate(Vector512<float> v) => GemmMicroKernels.Finish(v, null, 0, null, null, _lo, _hi, _a, _b, _mode);
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
    public Vector256<float> At(Vector256<float> v, int row, int col) =>
        GemmMicroKernels.Finish(v, _bias, row, _residual, _residual + row * _ldr + col, _lo, _hi, _a, _b, _mode);

    /// <inheritdoc cref="TileFinish512.Activate"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<float> Activate(Vector256<float> v) => GemmMicroKernels.Finish(v, null, 0, null, null, _lo, _hi, _a, _b, _mode);
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
    public Vector<float> At(Vector<float> v, int row, int col) =>
        GemmMicroKernels.Finish(v, _bias, row, _residual, _residual + row * _ldr + col, _lo, _hi, _a, _b, _mode);
}
