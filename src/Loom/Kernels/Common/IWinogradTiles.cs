namespace Loom.Kernels.Common;

/// <summary>
/// One Winograd tile size F(m×m, 3×3): the transforms that differ between sizes, as static members of a struct so that
/// <see cref="ConvWinograd{T}"/>, <see cref="ConvWinogradWhole{T}"/>, <see cref="ConvWinogradWeights{T}"/> and
/// <see cref="ConvWinogradOutput"/> are written once and the JIT specialises them per size (constants folded, calls
/// inlined), as TensorPrimitives' operator structs are. <see cref="WinogradF2"/> and <see cref="WinogradF4"/> implement it.
/// </summary>
internal unsafe interface IWinogradTiles
{
    /// <summary>Outputs per tile side (m); the transform's size is α = m + 2 and it has α² frequencies.</summary>
    static abstract int Tile { get; }

    /// <summary>Columns the input transform reads past the last group of 8 tiles of a padded plane row.</summary>
    static abstract int PadColumns { get; }

    /// <summary>Floats of scratch the input transform needs (its <c>scratch</c> argument) for planes of this layout.</summary>
    static abstract int InputScratch(in ConvWinogradLayout l);

    /// <summary>Floats of stack work the output's <see cref="Untile8"/> needs.</summary>
    static abstract int UntileWork { get; }

    /// <summary>
    /// V for tiles [t0, t1) and channels [c0, c1) of one image (of <paramref name="channels"/>): V_ξ starts at
    /// v + ξ·<paramref name="vStride"/>, channel c and block tile t at the packed-B position for a matrix of PaddedT(t1 − t0)
    /// columns in panels of <paramref name="nr"/>.
    /// </summary>
    static abstract void Input(in ConvWinogradLayout l, float* planes, int channels, int c0, int c1, int t0, int t1, float* v, long vStride,
        int nr, float* scratch);

    /// <summary>Aᵀ·M·A for eight tiles: M_ξ of tile q at src[ξ·stride + q]; output row r of the tiles at dst + r·ldd, m per tile.</summary>
    static abstract void Untile8(float* src, long stride, float* dst, int ldd, float* work);

    /// <summary>The same for one tile, lane by lane with the same expressions (so the same bits).</summary>
    static abstract void UntileScalar(float* src, long stride, float* dst, int ldd);

    /// <summary>
    /// U = G·g·Gᵀ of one 3×3 kernel <paramref name="g"/> in double (<paramref name="gg"/>: α×3 scratch), rounded once per value
    /// to u[ξ·<paramref name="plane"/>].
    /// </summary>
    static abstract void Weights(float* g, Span<double> gg, float* u, long plane);
}
