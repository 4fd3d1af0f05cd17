namespace Loom.Kernels.Common;

/// <summary>
/// A 3×3 convolution's constant weights in the Winograd domain of tile size <typeparamref name="T"/>: U = G·g·Gᵀ for every
/// (output, input) channel pair (<see cref="IWinogradTiles.Weights"/>), regrouped as one K×C matrix per frequency ξ (α² of
/// them) and packed once for <see cref="GemmCore"/> with the kernel set that will multiply them.
/// </summary>
internal sealed unsafe class ConvWinogradWeights<T> where T : struct, IWinogradTiles
{
    public ConvWinogradWeights(GemmKernelSet ks, int outChannels, int channels, float* w)
    {
        Kernels = ks;
        OutChannels = outChannels;
        Channels = channels;
        int a = T.Tile + 2, f = a * a;
        long plane = (long)outChannels * channels;
        var u = GC.AllocateUninitializedArray<float>(checked((int)(plane * f)));
        Span<double> gg = stackalloc double[a * 3];
        Packed = new GemmPackedA[f];
        fixed (float* pu = u)
        {
            for (long kc = 0; kc < plane; kc++)
                T.Weights(w + kc * 9, gg, pu + kc, plane);
            for (int xi = 0; xi < f; xi++)
                Packed[xi] = new GemmPackedA(ks, outChannels, channels, pu + xi * plane, channels, transposed: false);
        }
    }

    public GemmKernelSet Kernels { get; }
    public int OutChannels { get; }
    public int Channels { get; }

    /// <summary>U_ξ [K × C] for each frequency ξ = row·α + column of the transformed tile.</summary>
    public GemmPackedA[] Packed { get; }

    private GemmPackedB[]? _transposed;

    /// <summary>U_ξᵀ [C × K] as right operands (<see cref="ConvWinogradTransposed"/>), packed on first use.</summary>
    public GemmPackedB[] Transposed => ConvWinogradTransposed.PackedOnce(ref _transposed, Packed, OutChannels, Channels);
}
