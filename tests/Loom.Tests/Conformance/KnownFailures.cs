namespace Loom.Tests.Conformance;

/// <summary>
/// Conformance cases Loom does not pass yet, each with the reason. Keep this list short and honest:
/// a case listed here is reported as skipped with its reason, and fails the suite once it passes.
/// </summary>
public static class KnownFailures
{
    public static readonly IReadOnlyDictionary<string, string> Reasons = new Dictionary<string, string>
    {
        ["test_attention_3d"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_attn_mask"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_causal"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_diff_heads_sizes"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_diff_heads_sizes_attn_mask"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_diff_heads_sizes_causal"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_diff_heads_sizes_scaled"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_diff_heads_sizes_softcap"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_diff_heads_with_past_and_present"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_gqa"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_gqa_attn_mask"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_gqa_causal"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_gqa_scaled"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_gqa_softcap"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_gqa_with_past_and_present"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_scaled"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_softcap"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_with_past_and_present"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_with_past_and_present_qk_matmul"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_with_past_and_present_qk_matmul_bias"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_with_past_and_present_qk_matmul_softcap"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_3d_with_past_and_present_qk_matmul_softmax"] = "ONNX 1.18 data: its reference reshaped 3-D Q/K/V to heads without a transpose (fixed in ONNX 1.19, onnx#7142); Loom matches ONNX Runtime 1.31",
        ["test_attention_4d_gqa"] = "ONNX 1.18 data: its reference mapped query head h to kv head h mod kv_heads (fixed in ONNX 1.20, onnx#7274); Loom matches ONNX Runtime 1.31",
        ["test_attention_4d_gqa_attn_mask"] = "ONNX 1.18 data: its reference mapped query head h to kv head h mod kv_heads (fixed in ONNX 1.20, onnx#7274); Loom matches ONNX Runtime 1.31",
        ["test_attention_4d_gqa_causal"] = "ONNX 1.18 data: its reference mapped query head h to kv head h mod kv_heads (fixed in ONNX 1.20, onnx#7274); Loom matches ONNX Runtime 1.31",
        ["test_attention_4d_gqa_scaled"] = "ONNX 1.18 data: its reference mapped query head h to kv head h mod kv_heads (fixed in ONNX 1.20, onnx#7274); Loom matches ONNX Runtime 1.31",
        ["test_attention_4d_gqa_softcap"] = "ONNX 1.18 data: its reference mapped query head h to kv head h mod kv_heads (fixed in ONNX 1.20, onnx#7274); Loom matches ONNX Runtime 1.31",
        ["test_attention_4d_gqa_with_past_and_present"] = "ONNX 1.18 data: its reference mapped query head h to kv head h mod kv_heads (fixed in ONNX 1.20, onnx#7274); Loom matches ONNX Runtime 1.31",
        ["test_attention_4d_with_past_and_present_qk_matmul_bias"] = "ONNX 1.18 data: qk_matmul_output_mode 1 then meant QK+mask (changed in ONNX 1.22, onnx#7913); Loom matches ONNX Runtime 1.31",
        ["test_attention_4d_with_qk_matmul_bias"] = "ONNX 1.18 data: qk_matmul_output_mode 1 then meant QK+mask (changed in ONNX 1.22, onnx#7913); Loom matches ONNX Runtime 1.31",
        ["test_attention_4d_with_qk_matmul_softcap"] = "ONNX 1.18 data: softcap applied after the mask (changed in ONNX 1.22, onnx#7867); Loom matches ONNX Runtime 1.31",
        ["test_cast_FLOAT_to_BFLOAT16"] = "ONNX 1.18 data truncates float to bfloat16; Loom rounds to nearest even as ONNX Runtime does",
        ["test_castlike_FLOAT_to_BFLOAT16"] = "ONNX 1.18 data truncates float to bfloat16; Loom rounds to nearest even as ONNX Runtime does",
        ["test_castlike_FLOAT_to_BFLOAT16_expanded"] = "ONNX 1.18 data truncates float to bfloat16; Loom rounds to nearest even as ONNX Runtime does",
        ["test_qlinearmatmul_2D_int8_float16"] = "ONNX 1.18 data wraps int8 overflow instead of saturating; Loom saturates as the spec says and matches ONNX Runtime 1.31",
        ["test_qlinearmatmul_2D_int8_float32"] = "ONNX 1.18 data wraps int8 overflow instead of saturating; Loom saturates as the spec says and matches ONNX Runtime 1.31",
        ["test_qlinearmatmul_3D_int8_float16"] = "ONNX 1.18 data wraps int8 overflow instead of saturating; Loom saturates as the spec says and matches ONNX Runtime 1.31",
        ["test_qlinearmatmul_3D_int8_float32"] = "ONNX 1.18 data wraps int8 overflow instead of saturating; Loom saturates as the spec says and matches ONNX Runtime 1.31",
        ["test_image_decoder_decode_jpeg2k_rgb"] = "ImageDecoder: JPEG 2000 decoding is not implemented (BMP, PNM and PNG are)",
        ["test_image_decoder_decode_jpeg_bgr"] = "ImageDecoder: JPEG decoding is not implemented (BMP, PNM and PNG are)",
        ["test_image_decoder_decode_jpeg_grayscale"] = "ImageDecoder: JPEG decoding is not implemented (BMP, PNM and PNG are)",
        ["test_image_decoder_decode_jpeg_rgb"] = "ImageDecoder: JPEG decoding is not implemented (BMP, PNM and PNG are)",
        ["test_image_decoder_decode_tiff_rgb"] = "ImageDecoder: TIFF decoding is not implemented (BMP, PNM and PNG are)",
        ["test_image_decoder_decode_webp_rgb"] = "ImageDecoder: WebP decoding is not implemented (BMP, PNM and PNG are)",
    };
}
