using System.Runtime.CompilerServices;

namespace Loom.Kernels.Common;

/// <summary>
/// Work done on each finished block of C while it is still in L1, instead of another pass over the output
/// (bias, residual add, activation). Passed as a struct so the JIT specializes <see cref="GemmCore"/> per
/// epilogue and removes the no-op one entirely.
/// </summary>
internal unsafe interface IGemmEpilogue
{
    /// <summary>False for the no-op epilogue (lets the JIT drop the calls).</summary>
    bool IsActive { get; }

    /// <summary>Finishes rows [i0, i0+rows) × columns [j0, j0+cols) of C; <paramref name="c"/> points at C[i0, j0].</summary>
    void Apply(float* c, nint ldc, int i0, int j0, int rows, int cols);

    /// <summary>
    /// Describes the epilogue of the full tile at (<paramref name="i0"/>, <paramref name="j0"/>) for the micro-kernel to apply
    /// before its store; false when the micro-kernel cannot (then <see cref="Apply"/> runs after it).
    /// </summary>
    bool Describe(int i0, int j0, GemmTileEpilogue* tile);
}

internal readonly unsafe struct GemmNoEpilogue : IGemmEpilogue
{
    public bool IsActive => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(float* c, nint ldc, int i0, int j0, int rows, int cols) { }

    public bool Describe(int i0, int j0, GemmTileEpilogue* tile) => false;
}

/// <summary>
/// C[i, j] = act(C[i, j] + bias[i] + residual[i·ldr + j]): the Conv epilogue (one bias per output channel
/// row). <paramref name="bias"/> and <paramref name="residual"/> may be null.
/// </summary>
internal readonly unsafe struct GemmBiasActivation(float* bias, float* residual, int ldr, FusedActivation activation) : IGemmEpilogue
{
    public bool IsActive => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Apply(float* c, nint ldc, int i0, int j0, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            int i = i0 + r;
            activation.ApplyRow(c + r * ldc, cols, bias == null ? 0 : bias[i], residual == null ? null : residual + (long)i * ldr + j0);
        }
    }

    /// <summary>Bias, residual and the piecewise activations (all but Sigmoid and Tanh) are done by the micro-kernel itself.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Describe(int i0, int j0, GemmTileEpilogue* tile)
    {
        if (!activation.ToTile(ref *tile)) return false;
        tile->Bias = bias == null ? null : bias + i0;
        tile->Residual = residual == null ? null : residual + (long)i0 * ldr + j0;
        tile->Ldr = ldr;
        return true;
    }

    /// <summary>True when there is nothing to do (no bias, residual or activation).</summary>
    public static bool IsIdentity(float* bias, float* residual, FusedActivation activation) =>
        bias == null && residual == null && activation.Kind == ActivationKind.None;
}
