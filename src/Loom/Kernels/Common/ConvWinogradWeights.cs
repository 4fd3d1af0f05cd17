namespace Loom.Kernels.Common;

/// <summary>
/// A 3×3 convolution's constant weights in the Winograd domain: U = G·g·Gᵀ for every (output, input) channel pair,
/// regrouped as one K×C matrix per frequency ξ (α² of them) and packed once for <see cref="GemmCore"/> with the
/// kernel set that will multiply them. G is F(2×2, 3×3)'s [[1,0,0], [½,½,½], [½,−½,½], [0,0,1]].
/// </summary>
internal sealed unsafe class ConvWinogradWeights
{
    public ConvWinogradWeights(GemmKernelSet ks, int outChannels, int channels, float* w)
    {
        Kernels = ks;
        OutChannels = outChannels;
        Channels = channels;
        const int a = ConvWinograd.Alpha, f = ConvWinograd.Frequencies;
        long plane = (long)outChannels * channels;
        var u = GC.AllocateUninitializedArray<float>(checked((int)(plane * f)));
        Span<double> gg = stackalloc double[a * 3];
        for (long kc = 0; kc < plane; kc++)
        {
            float* g = w + kc * 9;
            // G·g (α×3), then (G·g)·Gᵀ (α×α), in double: the ½ factors are exact, the sums round once at the end.
            for (int c = 0; c < 3; c++)
            {
                double g0 = g[c], g1 = g[3 + c], g2 = g[6 + c];
                gg[c] = g0;
                gg[3 + c] = 0.5 * (g0 + g1 + g2);
                gg[6 + c] = 0.5 * (g0 - g1 + g2);
                gg[9 + c] = g2;
            }
            for (int r = 0; r < a; r++)
            {
                double h0 = gg[r * 3], h1 = gg[r * 3 + 1], h2 = gg[r * 3 + 2];
                u[(r * a + 0) * plane + kc] = (float)h0;
                u[(r * a + 1) * plane + kc] = (float)(0.5 * (h0 + h1 + h2));
                u[(r * a + 2) * plane + kc] = (float)(0.5 * (h0 - h1 + h2));
                u[(r * a + 3) * plane + kc] = (float)h2;
            }
        }
        Packed = new GemmPackedA[f];
        fixed (float* pu = u)
            for (int xi = 0; xi < f; xi++)
                Packed[xi] = new GemmPackedA(ks, outChannels, channels, pu + xi * plane, channels, transposed: false);
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
