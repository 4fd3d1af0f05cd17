namespace Loom.Kernels.Common;

/// <summary>
/// float16 and bfloat16 tensors are computed in float32 (more accurate than half arithmetic, and it
/// reuses the fast float32 kernels): these convert to and from float32 arrays.
/// </summary>
internal static class GemmFloatData
{
    /// <summary>A converted copy as float32.</summary>
    public static float[] ToFloat(Tensor t)
    {
        var r = new float[t.Length];
        switch (t.DataType)
        {
            case DataType.Float: t.AsSpan<float>().CopyTo(r); break;
            case DataType.Float16:
                var h = t.AsSpan<Half>();
                for (int i = 0; i < r.Length; i++) r[i] = (float)h[i];
                break;
            case DataType.BFloat16:
                var b = t.AsSpan<BFloat16>();
                for (int i = 0; i < r.Length; i++) r[i] = (float)b[i];
                break;
            case DataType.Double:
                var d = t.AsSpan<double>();
                for (int i = 0; i < r.Length; i++) r[i] = (float)d[i];
                break;
            default: throw new InvalidOperationException($"cannot read {t.DataType.Name()} as float32");
        }
        return r;
    }

    /// <summary>Writes float32 values into a float16/bfloat16/float32 tensor (rounding to nearest even).</summary>
    public static void FromFloat(ReadOnlySpan<float> src, Tensor dest)
    {
        switch (dest.DataType)
        {
            case DataType.Float: src.CopyTo(dest.AsSpan<float>()); break;
            case DataType.Float16:
                var h = dest.AsSpan<Half>();
                for (int i = 0; i < src.Length; i++) h[i] = (Half)src[i];
                break;
            case DataType.BFloat16:
                var b = dest.AsSpan<BFloat16>();
                for (int i = 0; i < src.Length; i++) b[i] = (BFloat16)src[i];
                break;
            case DataType.Double:
                var d = dest.AsSpan<double>();
                for (int i = 0; i < src.Length; i++) d[i] = src[i];
                break;
            default: throw new InvalidOperationException($"cannot write float32 into {dest.DataType.Name()}");
        }
    }
}
