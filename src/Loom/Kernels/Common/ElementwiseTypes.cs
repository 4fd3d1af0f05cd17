using System.Numerics;

namespace Loom.Kernels.Common;

/// <summary>Generic code to run for one concrete numeric storage type (picked at run time from a dtype).</summary>
internal interface INumberVisitor
{
    void Visit<T>() where T : unmanaged, INumber<T>;
}

internal interface IIntegerVisitor
{
    void Visit<T>() where T : unmanaged, IBinaryInteger<T>;
}

internal interface IFloatVisitor
{
    void Visit<T>() where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>
/// Turns a runtime <see cref="DataType"/> into a call of a generic method, once per family of types, so
/// each operator family writes its dtype switch zero times. float16 and bfloat16 are not visited: kernels
/// widen them to float32 first (NumPy computes float16 arithmetic in float32 and rounds each result).
/// </summary>
internal static class ElementwiseTypes
{
    public static bool IsHalfLike(DataType t) => t is DataType.Float16 or DataType.BFloat16;

    /// <summary>Every integer and float32/float64. Returns false for other dtypes.</summary>
    public static bool VisitNumber<TV>(DataType t, ref TV v) where TV : struct, INumberVisitor
    {
        switch (t)
        {
            case DataType.Float: v.Visit<float>(); return true;
            case DataType.Double: v.Visit<double>(); return true;
            case DataType.Int8: v.Visit<sbyte>(); return true;
            case DataType.Int16: v.Visit<short>(); return true;
            case DataType.Int32: v.Visit<int>(); return true;
            case DataType.Int64: v.Visit<long>(); return true;
            case DataType.UInt8: v.Visit<byte>(); return true;
            case DataType.UInt16: v.Visit<ushort>(); return true;
            case DataType.UInt32: v.Visit<uint>(); return true;
            case DataType.UInt64: v.Visit<ulong>(); return true;
            default: return false;
        }
    }

    public static bool VisitInteger<TV>(DataType t, ref TV v) where TV : struct, IIntegerVisitor
    {
        switch (t)
        {
            case DataType.Int8: v.Visit<sbyte>(); return true;
            case DataType.Int16: v.Visit<short>(); return true;
            case DataType.Int32: v.Visit<int>(); return true;
            case DataType.Int64: v.Visit<long>(); return true;
            case DataType.UInt8: v.Visit<byte>(); return true;
            case DataType.UInt16: v.Visit<ushort>(); return true;
            case DataType.UInt32: v.Visit<uint>(); return true;
            case DataType.UInt64: v.Visit<ulong>(); return true;
            default: return false;
        }
    }

    public static bool VisitFloat<TV>(DataType t, ref TV v) where TV : struct, IFloatVisitor
    {
        switch (t)
        {
            case DataType.Float: v.Visit<float>(); return true;
            case DataType.Double: v.Visit<double>(); return true;
            default: return false;
        }
    }

    /// <summary>A float32 copy of a float16 or bfloat16 tensor (exact).</summary>
    public static Tensor Widen(Tensor t)
    {
        var r = new float[t.Length];
        if (t.DataType == DataType.Float16)
        {
            var s = t.AsReadOnlySpan<Half>();
            for (int i = 0; i < r.Length; i++) r[i] = (float)s[i];
        }
        else
        {
            var s = t.AsReadOnlySpan<BFloat16>();
            for (int i = 0; i < r.Length; i++) r[i] = (float)s[i];
        }
        return Tensor.FromArray(r, t.Shape);
    }

    /// <summary>Rounds float32 values into a float16 or bfloat16 tensor of the same length (nearest, ties to even).</summary>
    public static void Narrow(ReadOnlySpan<float> source, Tensor destination)
    {
        if (destination.DataType == DataType.Float16)
        {
            var d = destination.AsSpan<Half>();
            for (int i = 0; i < d.Length; i++) d[i] = (Half)source[i];
        }
        else
        {
            var d = destination.AsSpan<BFloat16>();
            for (int i = 0; i < d.Length; i++) d[i] = (BFloat16)source[i];
        }
    }
}
