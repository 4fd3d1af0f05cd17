namespace Loom.IR;

/// <summary>
/// The one place that knows which operators are convolutions, so a new variant (as <c>com.loom.FusedConvTranspose</c> was)
/// is added here rather than to every cost, shape, folding and scheduling rule. The string forms classify by op type alone,
/// as the op-type switches of the cost model and workload do; the <see cref="Node"/> form also checks the domain.
/// DeformConv is none of these: its offsets input makes it a gather, not a product of weights, and no cost rule models it.
/// </summary>
public static class ConvOps
{
    /// <summary>The domain of Loom's own operators (the fused convolutions among them).</summary>
    public const string LoomDomain = "com.loom";

    public const string Conv = "Conv";
    public const string ConvTranspose = "ConvTranspose";
    /// <summary>Loom's Conv with its epilogue (bias, residual, activation) and optional input transform folded in.</summary>
    public const string FusedConv = "FusedConv";
    /// <summary>Loom's ConvTranspose with its activation folded into the bias pass.</summary>
    public const string FusedConvTranspose = "FusedConvTranspose";

    /// <summary>A float convolution or transposed convolution, fused or not: W is input 1, B input 2.</summary>
    public static bool IsConvolution(string opType) => opType is Conv or ConvTranspose or FusedConv or FusedConvTranspose;

    /// <summary>The quantized convolutions (integer weights; QLinearConv's W is input 3).</summary>
    public static bool IsQuantized(string opType) => opType is "ConvInteger" or "QLinearConv";

    /// <summary>Any convolution a cost rule models: <see cref="IsConvolution"/> or <see cref="IsQuantized"/>.</summary>
    public static bool IsAnyConvolution(string opType) => IsConvolution(opType) || IsQuantized(opType);

    /// <summary>ConvTranspose or FusedConvTranspose: W is [C, M/group, k…] and the work scales with the input, not the output.</summary>
    public static bool IsTransposed(string opType) => opType is ConvTranspose or FusedConvTranspose;

    /// <summary>Conv or FusedConv: a float convolution that is not transposed (W is [M, C/group, k…], B adds one per output).</summary>
    public static bool IsForward(string opType) => opType is Conv or FusedConv;

    /// <summary><see cref="IsForward(string)"/> in its own domain: ONNX for Conv, <see cref="LoomDomain"/> for FusedConv.</summary>
    public static bool IsForward(Node n) => n is { Domain: "", OpType: Conv } or { Domain: LoomDomain, OpType: FusedConv };

    /// <summary>The input index of the weights W of any convolution (<see cref="IsAnyConvolution"/>).</summary>
    public static int WeightInput(string opType) => opType == "QLinearConv" ? 3 : 1;
}
