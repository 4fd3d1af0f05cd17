namespace Loom;

/// <summary>Element types of tensors. Values equal ONNX's <c>TensorProto.DataType</c> codes.</summary>
public enum DataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
    Float8E4M3FN = 17,
    Float8E4M3FNUZ = 18,
    Float8E5M2 = 19,
    Float8E5M2FNUZ = 20,
    UInt4 = 21,
    Int4 = 22,
    Float4E2M1 = 23,
    Float8E8M0 = 24,
    UInt2 = 25,
    Int2 = 26,
}

/// <summary>Facts about each <see cref="DataType"/>: its in-memory element type, size and name.</summary>
public static class DataTypes
{
    /// <summary>
    /// The CLR element type a tensor of this dtype stores. Sub-byte and 8-bit float types are stored
    /// one element per byte (unpacked), so every kernel can index them directly.
    /// </summary>
    public static Type ClrType(this DataType t) => t switch
    {
        DataType.Float => typeof(float),
        DataType.Double => typeof(double),
        DataType.Float16 => typeof(Half),
        DataType.BFloat16 => typeof(BFloat16),
        DataType.Int8 or DataType.Int4 or DataType.Int2 => typeof(sbyte),
        DataType.UInt8 or DataType.UInt4 or DataType.UInt2 => typeof(byte),
        DataType.Float8E4M3FN or DataType.Float8E4M3FNUZ or DataType.Float8E5M2 or DataType.Float8E5M2FNUZ
            or DataType.Float4E2M1 or DataType.Float8E8M0 => typeof(byte),
        DataType.Int16 => typeof(short),
        DataType.UInt16 => typeof(ushort),
        DataType.Int32 => typeof(int),
        DataType.UInt32 => typeof(uint),
        DataType.Int64 => typeof(long),
        DataType.UInt64 => typeof(ulong),
        DataType.Bool => typeof(bool),
        DataType.String => typeof(string),
        _ => throw new UnsupportedException($"data type {t} is not supported"),
    };

    /// <summary>Bytes one element occupies in Loom's memory (strings count as a reference).</summary>
    public static int ElementSize(this DataType t) => t switch
    {
        DataType.Float or DataType.Int32 or DataType.UInt32 => 4,
        DataType.Double or DataType.Int64 or DataType.UInt64 or DataType.String => 8,
        DataType.Float16 or DataType.BFloat16 or DataType.Int16 or DataType.UInt16 => 2,
        DataType.Complex64 => 8,
        DataType.Complex128 => 16,
        DataType.Undefined => 0,
        _ => 1,
    };

    /// <summary>Bits one element occupies in ONNX's serialized (raw_data) form.</summary>
    public static int SerializedBits(this DataType t) => t switch
    {
        DataType.Int4 or DataType.UInt4 or DataType.Float4E2M1 => 4,
        DataType.Int2 or DataType.UInt2 => 2,
        _ => t.ElementSize() * 8,
    };

    public static bool IsSupported(this DataType t) =>
        t is not (DataType.Undefined or DataType.Complex64 or DataType.Complex128) && (int)t is > 0 and <= 26;

    public static bool IsFloatingPoint(this DataType t) => t is DataType.Float or DataType.Double or DataType.Float16
        or DataType.BFloat16 or DataType.Float8E4M3FN or DataType.Float8E4M3FNUZ or DataType.Float8E5M2
        or DataType.Float8E5M2FNUZ or DataType.Float4E2M1 or DataType.Float8E8M0;

    public static bool IsInteger(this DataType t) => t is DataType.Int8 or DataType.Int16 or DataType.Int32
        or DataType.Int64 or DataType.UInt8 or DataType.UInt16 or DataType.UInt32 or DataType.UInt64
        or DataType.Int4 or DataType.UInt4 or DataType.Int2 or DataType.UInt2;

    public static bool IsSignedInteger(this DataType t) => t is DataType.Int8 or DataType.Int16 or DataType.Int32
        or DataType.Int64 or DataType.Int4 or DataType.Int2;

    /// <summary>The lower-case name ONNX and NumPy users know (float32, int64, bfloat16, ...).</summary>
    public static string Name(this DataType t) => t switch
    {
        DataType.Float => "float32",
        DataType.Double => "float64",
        DataType.Float16 => "float16",
        DataType.BFloat16 => "bfloat16",
        DataType.Int8 => "int8",
        DataType.Int16 => "int16",
        DataType.Int32 => "int32",
        DataType.Int64 => "int64",
        DataType.UInt8 => "uint8",
        DataType.UInt16 => "uint16",
        DataType.UInt32 => "uint32",
        DataType.UInt64 => "uint64",
        DataType.Bool => "bool",
        DataType.String => "string",
        DataType.Complex64 => "complex64",
        DataType.Complex128 => "complex128",
        DataType.Float8E4M3FN => "float8e4m3fn",
        DataType.Float8E4M3FNUZ => "float8e4m3fnuz",
        DataType.Float8E5M2 => "float8e5m2",
        DataType.Float8E5M2FNUZ => "float8e5m2fnuz",
        DataType.UInt4 => "uint4",
        DataType.Int4 => "int4",
        DataType.Float4E2M1 => "float4e2m1",
        DataType.Float8E8M0 => "float8e8m0",
        DataType.UInt2 => "uint2",
        DataType.Int2 => "int2",
        _ => "undefined",
    };

    public static bool TryParse(string name, out DataType t)
    {
        foreach (var v in Enum.GetValues<DataType>())
            if (v.Name() == name || string.Equals(v.ToString(), name, StringComparison.OrdinalIgnoreCase)) { t = v; return true; }
        t = DataType.Undefined;
        return false;
    }

    /// <summary>The dtype whose storage is the CLR type <typeparamref name="T"/> (the natural one: byte is uint8).</summary>
    public static DataType Of<T>() =>
        typeof(T) == typeof(float) ? DataType.Float :
        typeof(T) == typeof(double) ? DataType.Double :
        typeof(T) == typeof(Half) ? DataType.Float16 :
        typeof(T) == typeof(BFloat16) ? DataType.BFloat16 :
        typeof(T) == typeof(sbyte) ? DataType.Int8 :
        typeof(T) == typeof(byte) ? DataType.UInt8 :
        typeof(T) == typeof(short) ? DataType.Int16 :
        typeof(T) == typeof(ushort) ? DataType.UInt16 :
        typeof(T) == typeof(int) ? DataType.Int32 :
        typeof(T) == typeof(uint) ? DataType.UInt32 :
        typeof(T) == typeof(long) ? DataType.Int64 :
        typeof(T) == typeof(ulong) ? DataType.UInt64 :
        typeof(T) == typeof(bool) ? DataType.Bool :
        typeof(T) == typeof(string) ? DataType.String :
        throw new UnsupportedException($"CLR type {typeof(T).Name} has no Loom data type");
}
