namespace Loom.Kernels.Common;

/// <summary>What the 4th Attention output (<c>qk_matmul_output</c>) holds.</summary>
internal enum QkOutputMode
{
    /// <summary>scale · Q·Kᵀ.</summary>
    Raw = 0,
    /// <summary>After softcap, before the mask/bias is added.</summary>
    AfterSoftcap = 1,
    /// <summary>After softcap and mask/bias: the softmax input.</summary>
    AfterBias = 2,
    /// <summary>The softmax probabilities (fully masked rows are zero).</summary>
    AfterSoftmax = 3,
}

/// <summary>
/// The attributes of an Attention node, parsed once when the kernel is created.
/// Semantics follow the current ONNX definition (which ONNX Runtime implements): 3-D inputs are
/// (batch, seq, heads·size) and split into heads before the transpose; with grouped-query attention
/// query head h reads kv head h / (q_heads / kv_heads); softcap is applied before the mask; the causal
/// mask is aligned bottom-right by the past length.
/// </summary>
internal sealed record AttentionOptions(
    bool IsCausal,
    int QNumHeads,          // 0 when absent (4-D inputs carry heads in their shape)
    int KvNumHeads,
    float? Scale,           // null: 1/sqrt(head_size)
    float Softcap,          // 0: none
    DataType SoftmaxPrecision, // Undefined: the compute type
    QkOutputMode QkMode,
    int LeftWindow,         // -1: unbounded (opset 25)
    int RightWindow)
{
    public static AttentionOptions Parse(KernelInfo info)
    {
        int qHeads = checked((int)info.GetInt("q_num_heads", 0));
        int kvHeads = checked((int)info.GetInt("kv_num_heads", 0));
        if (qHeads < 0 || kvHeads < 0) throw info.Fail($"q_num_heads ({qHeads}) and kv_num_heads ({kvHeads}) must be positive");
        if (qHeads > 0 && kvHeads > 0 && qHeads % kvHeads != 0)
            throw info.Fail($"q_num_heads ({qHeads}) must be a multiple of kv_num_heads ({kvHeads})");

        float? scale = info.Node.HasAttribute("scale") ? info.GetFloat("scale", 0) : null;
        float softcap = info.GetFloat("softcap", 0);
        if (softcap < 0) throw info.Fail($"softcap must be >= 0, got {softcap}");

        var precision = DataType.Undefined;
        if (info.Node.HasAttribute("softmax_precision"))
        {
            long p = info.GetInt("softmax_precision", 0);
            precision = (DataType)p;
            if (precision is not (DataType.Float or DataType.Float16 or DataType.Double or DataType.BFloat16))
                throw info.Fail($"softmax_precision must be 1 (float), 10 (float16), 11 (double) or 16 (bfloat16), got {p}");
        }

        long mode = info.GetInt("qk_matmul_output_mode", 0);
        if (mode is < 0 or > 3) throw info.Fail($"qk_matmul_output_mode must be 0, 1, 2 or 3, got {mode}");

        long left = info.GetInt("left_window_size", -1), right = info.GetInt("right_window_size", -1);
        if (left < -1 || right < -1) throw info.Fail($"left_window_size ({left}) and right_window_size ({right}) must be -1 or nonnegative");

        return new AttentionOptions(info.GetInt("is_causal", 0) != 0, qHeads, kvHeads, scale, softcap, precision,
            (QkOutputMode)mode, checked((int)left), checked((int)right));
    }
}
