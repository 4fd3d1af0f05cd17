namespace Loom.Kernels.Common;

/// <summary>A computation written once for any element type; <see cref="ReduceTypeSwitch"/> picks the type from a dtype.</summary>
internal interface IReduceTypedAction
{
    void Invoke<T>() where T : unmanaged;
}

/// <summary>Calls a generic <see cref="IReduceTypedAction"/> with the storage type of a dtype.</summary>
internal static class ReduceTypeSwitch
{
    public static bool IsFloating(DataType t) => t is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16;

    public static bool IsNumeric(DataType t) => IsFloating(t) || t is DataType.Int8 or DataType.UInt8 or DataType.Int16
        or DataType.UInt16 or DataType.Int32 or DataType.UInt32 or DataType.Int64 or DataType.UInt64;

    /// <summary>float32, float64, float16 and bfloat16; false for any other dtype.</summary>
    public static bool Floating<TAction>(DataType t, ref TAction action) where TAction : struct, IReduceTypedAction
    {
        switch (t)
        {
            case DataType.Float: action.Invoke<float>(); return true;
            case DataType.Double: action.Invoke<double>(); return true;
            case DataType.Float16: action.Invoke<Half>(); return true;
            case DataType.BFloat16: action.Invoke<BFloat16>(); return true;
            default: return false;
        }
    }

    /// <summary>The floating types and the 8- to 64-bit integers; false for any other dtype.</summary>
    public static bool Numeric<TAction>(DataType t, ref TAction action) where TAction : struct, IReduceTypedAction
    {
        switch (t)
        {
            case DataType.Int8: action.Invoke<sbyte>(); return true;
            case DataType.UInt8: action.Invoke<byte>(); return true;
            case DataType.Int16: action.Invoke<short>(); return true;
            case DataType.UInt16: action.Invoke<ushort>(); return true;
            case DataType.Int32: action.Invoke<int>(); return true;
            case DataType.UInt32: action.Invoke<uint>(); return true;
            case DataType.Int64: action.Invoke<long>(); return true;
            case DataType.UInt64: action.Invoke<ulong>(); return true;
            default: return Floating(t, ref action);
        }
    }
}
