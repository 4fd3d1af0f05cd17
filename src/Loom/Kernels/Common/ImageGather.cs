namespace Loom.Kernels.Common;

/// <summary>A generic action run for a tensor's element type (see <see cref="ImageGather.Dispatch"/>).</summary>
internal interface IElementTypeAction
{
    void Invoke<T>();
}

/// <summary>Element-type dispatch and plane gathers shared by the image kernels' nearest modes, which copy elements of any dtype.</summary>
internal static class ImageGather
{
    /// <summary>Runs <paramref name="action"/> with T the storage type of <paramref name="dataType"/>.</summary>
    public static void Dispatch<TAction>(DataType dataType, TAction action) where TAction : IElementTypeAction
    {
        var t = dataType.ClrType();
        if (t == typeof(float)) action.Invoke<float>();
        else if (t == typeof(double)) action.Invoke<double>();
        else if (t == typeof(Half)) action.Invoke<Half>();
        else if (t == typeof(BFloat16)) action.Invoke<BFloat16>();
        else if (t == typeof(byte)) action.Invoke<byte>();
        else if (t == typeof(sbyte)) action.Invoke<sbyte>();
        else if (t == typeof(short)) action.Invoke<short>();
        else if (t == typeof(ushort)) action.Invoke<ushort>();
        else if (t == typeof(int)) action.Invoke<int>();
        else if (t == typeof(uint)) action.Invoke<uint>();
        else if (t == typeof(long)) action.Invoke<long>();
        else if (t == typeof(ulong)) action.Invoke<ulong>();
        else if (t == typeof(bool)) action.Invoke<bool>();
        else if (t == typeof(string)) action.Invoke<string>();
        else throw new UnsupportedException($"{dataType.Name()} elements are not supported here");
    }

    /// <summary>
    /// y[b, ch, o] = x[b, ch, source[b, o]] for every channel, or the zero of the dtype where the source is
    /// -1 (x and y flattened to [n, c, spatial]).
    /// </summary>
    public static void Planes(Tensor x, Tensor y, int[] source, int n, int c, int inSpatial, int outSpatial) =>
        Dispatch(x.DataType, new PlaneGather(x, y, source, n, c, inSpatial, outSpatial));

    private readonly record struct PlaneGather(Tensor X, Tensor Y, int[] Source, int N, int C, int InSpatial, int OutSpatial) : IElementTypeAction
    {
        public void Invoke<T>()
        {
            var src = X.AsReadOnlySpan<T>();
            var dst = Y.AsSpan<T>();
            T zero = typeof(T) == typeof(string) ? (T)(object)string.Empty : default!;
            for (int b = 0; b < N; b++)
                for (int ch = 0; ch < C; ch++)
                {
                    int inPlane = (b * C + ch) * InSpatial, outPlane = (b * C + ch) * OutSpatial;
                    for (int o = 0; o < OutSpatial; o++)
                    {
                        int s = Source[b * OutSpatial + o];
                        dst[outPlane + o] = s < 0 ? zero : src[inPlane + s];
                    }
                }
        }
    }
}
