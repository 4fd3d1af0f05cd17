namespace Loom.Kernels.Common;

/// <summary>
/// F(4×4, 3×3)'s weights in the Winograd domain: U = G·g·Gᵀ (6×6) for every (output, input) channel pair, one K×C matrix
/// per frequency packed once for <see cref="GemmCore"/>, as <see cref="ConvWinogradWeights"/> does for F(2×2). G for the
/// points 0, 1, −1, 2, −2, ∞ has thirds and sixths that float32 cannot hold: the whole product is computed in double and
/// rounded once per value.
/// </summary>
internal sealed unsafe class ConvWinograd4Weights
{
    private static readonly double[] G =
    [
        1 / 4.0, 0, 0,
        -1 / 6.0, -1 / 6.0, -1 / 6.0,
        -1 / 6.0, 1 / 6.0, -1 / 6.0,
        1 / 24.0, 1 / 12.0, 1 / 6.0,
        1 / 24.0, -1 / 12.0, 1 / 6.0,
        0, 0, 1,
    ];

    public ConvWinograd4Weights(GemmKernelSet ks, int outChannels, int channels, float* w)
    {
        Kernels = ks;
        OutChannels = outChannels;
        Channels = channels;
        const int a = ConvWinograd4.Alpha, f = ConvWinograd4.Frequencies;
        long plane = (long)outChannels * channels;
        var u = GC.AllocateUninitializedArray<float>(checked((int)(plane * f)));
        Span<double> gg = stackalloc double[a * 3];
        for (long kc = 0; kc < plane; kc++)
        {
            float* g = w + kc * 9;
            for (int r = 0; r < a; r++)
                for (int c = 0; c < 3; c++)
                    gg[r * 3 + c] = G[r * 3] * g[c] + G[r * 3 + 1] * g[3 + c] + G[r * 3 + 2] * g[6 + c];
            for (int r = 0; r < a; r++)
                for (int s = 0; s < a; s++)
                    u[(r * a + s) * plane + kc] = (float)(gg[r * 3] * G[s * 3] + gg[r * 3 + 1] * G[s * 3 + 1] + gg[r * 3 + 2] * G[s * 3 + 2]);
        }
        Packed = new GemmPackedA[f];
        fixed (float* pu = u)
            for (int xi = 0; xi < f; xi++)
                Packed[xi] = new GemmPackedA(ks, outChannels, channels, pu + xi * plane, channels, transposed: false);
    }

    public GemmKernelSet Kernels { get; }
    public int OutChannels { get; }
    public int Channels { get; }

    /// <summary>U_ξ [K × C] for each frequency ξ = row·6 + column of the transformed tile.</summary>
    public GemmPackedA[] Packed { get; }

    private GemmPackedB[]? _transposed;

    /// <summary>U_ξᵀ [C × K] as right operands (<see cref="ConvWinogradTransposed"/>), packed on first use.</summary>
    public GemmPackedB[] Transposed => ConvWinogradTransposed.PackedOnce(ref _transposed, Packed, OutChannels, Channels);
}
