namespace Loom.Kernels.Common;

/// <summary>
/// Which convolutions take Winograd F(4×4, 3×3) (<see cref="WinogradF4"/>, run as <see cref="ConvWinograd{T}"/>): each 4×4
/// block of outputs costs 36 multiplies per channel pair instead of 144 (F(2×2)'s four tiles would take 64), at the price
/// of 6×6 input tiles, larger transforms and weights whose thirds and sixths round. Chosen by shape only
/// (<see cref="Worth"/>), so sequential and parallel runs give the same bits.
/// </summary>
internal static class ConvWinograd4
{
    /// <summary>F(4×4)'s frequencies (α² for α = 6), for the cost model.</summary>
    public const int Frequencies = 36;

    /// <summary>Off with LOOM_WINOGRAD4=0 (A/B runs against F(2×2)) or LOOM_WINOGRAD=0, read once per process.</summary>
    public static bool Enabled { get; } = ConvWinograd.Enabled && Environment.GetEnvironmentVariable("LOOM_WINOGRAD4") != "0";

    /// <summary>
    /// Whether this shape takes F(4×4) rather than F(2×2) or another path: shape only, never the thread count. Its 36 products
    /// per block of tiles stream 2.25× F(2×2)'s transformed weights for the same tiles, so it needs planes large enough that
    /// few tiles do not pad a GEMM panel and, on all but the largest planes, output channels enough to keep the products ahead
    /// of the transforms.
    /// </summary>
    public static bool Worth(ConvProblem p, Conv3D g) =>
        Enabled && ConvWinograd.Supports(g, p.Group) && p.Channels >= MinChannels && g.OH * g.OW >= MinPositions
        && (p.OutChannels >= MinOutChannels || g.OH * g.OW >= MinPositionsFewOutputs && p.OutChannels >= MinChannels);

    /// <summary>
    /// Thresholds measured per layer at one thread against F(2×2) (docs/performance.md, 2026-11-27): 27×27 and larger with
    /// 64+ output channels win (ResNet-50 0.91–0.93, Inception v1 0.83–0.85, SqueezeNet 0.93–0.94), 14×14 and 13×13 lose
    /// (1.25–1.3); 24–32 output channels lose at 28×28–80×80 (DenseNet-121 1.02–1.11, the detector 1.04–1.09) and win only
    /// at the detector's 160×160 (0.77–0.81).
    /// </summary>
    public const int MinChannels = 16, MinOutChannels = 64, MinPositions = 27 * 27, MinPositionsFewOutputs = 128 * 128;
}
