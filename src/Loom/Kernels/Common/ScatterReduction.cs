using System.Numerics;
using System.Runtime.CompilerServices;

namespace Loom.Kernels.Common;

/// <summary>How ScatterElements and ScatterND combine an update with the element already there.</summary>
internal enum ScatterReduction { None, Add, Mul, Max, Min }

/// <summary>Combines an existing element with an update; a struct type parameter so the JIT inlines it.</summary>
internal interface IScatterCombiner<T>
{
    T Combine(T existing, T update);
}

/// <summary>reduction="none": the update replaces the element (any dtype, by storage width).</summary>
internal readonly struct ReplaceCombiner<T> : IScatterCombiner<T>
{
    public T Combine(T existing, T update) => update;
}

/// <summary>add, mul, max, min on a numeric type.</summary>
internal readonly struct NumberCombiner<T>(ScatterReduction reduction) : IScatterCombiner<T> where T : INumber<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Combine(T a, T b) => reduction switch
    {
        ScatterReduction.Add => a + b,
        ScatterReduction.Mul => a * b,
        ScatterReduction.Max => T.Max(a, b),
        ScatterReduction.Min => T.Min(a, b),
        _ => b,
    };
}

/// <summary>bfloat16 combines in float32 and rounds each result back, as ONNX Runtime does.</summary>
internal readonly struct BFloat16Combiner(ScatterReduction reduction) : IScatterCombiner<BFloat16>
{
    public BFloat16 Combine(BFloat16 a, BFloat16 b) => (BFloat16)new NumberCombiner<float>(reduction).Combine((float)a, (float)b);
}

/// <summary>Parsing the reduction attribute and running a scatter with the right element type and combiner.</summary>
internal static class ScatterReductions
{
    public static ScatterReduction Parse(KernelInfo info, int sinceAddMul = 16, int sinceMaxMin = 18)
    {
        var r = info.GetString("reduction", "none");
        return r switch
        {
            "none" => ScatterReduction.None,
            "add" when info.Opset >= sinceAddMul => ScatterReduction.Add,
            "mul" when info.Opset >= sinceAddMul => ScatterReduction.Mul,
            "max" when info.Opset >= sinceMaxMin => ScatterReduction.Max,
            "min" when info.Opset >= sinceMaxMin => ScatterReduction.Min,
            _ => throw info.Fail($"reduction '{r}' is not supported at opset {info.Opset}"),
        };
    }

    /// <summary>Generic scatter work, run once per (element type, combiner) pair.</summary>
    public interface IScatterBody
    {
        void Run<T, TCombiner>(TCombiner combiner) where TCombiner : struct, IScatterCombiner<T>;
    }

    /// <summary>Calls <paramref name="body"/> with the element type of <paramref name="dataType"/> and the combiner of <paramref name="reduction"/>.</summary>
    public static void Dispatch<TBody>(DataType dataType, ScatterReduction reduction, ref TBody body) where TBody : struct, IScatterBody
    {
        if (reduction == ScatterReduction.None)
        {
            var replace = new ReplaceBody<TBody>(body);
            ShapeStorage.Dispatch(dataType, ref replace);
            return;
        }
        switch (dataType)
        {
            case DataType.Float: body.Run<float, NumberCombiner<float>>(new(reduction)); break;
            case DataType.Double: body.Run<double, NumberCombiner<double>>(new(reduction)); break;
            case DataType.Float16: body.Run<Half, NumberCombiner<Half>>(new(reduction)); break;
            case DataType.BFloat16: body.Run<BFloat16, BFloat16Combiner>(new(reduction)); break;
            case DataType.Int8: body.Run<sbyte, NumberCombiner<sbyte>>(new(reduction)); break;
            case DataType.Int16: body.Run<short, NumberCombiner<short>>(new(reduction)); break;
            case DataType.Int32: body.Run<int, NumberCombiner<int>>(new(reduction)); break;
            case DataType.Int64: body.Run<long, NumberCombiner<long>>(new(reduction)); break;
            case DataType.UInt8: body.Run<byte, NumberCombiner<byte>>(new(reduction)); break;
            case DataType.UInt16: body.Run<ushort, NumberCombiner<ushort>>(new(reduction)); break;
            case DataType.UInt32: body.Run<uint, NumberCombiner<uint>>(new(reduction)); break;
            case DataType.UInt64: body.Run<ulong, NumberCombiner<ulong>>(new(reduction)); break;
            default: throw new UnsupportedException($"reduction {reduction.ToString().ToLowerInvariant()} is not supported for {dataType.Name()}");
        }
    }

    private struct ReplaceBody<TBody>(TBody body) : IStorageAction where TBody : struct, IScatterBody
    {
        private TBody _body = body;
        public void Run<T>() => _body.Run<T, ReplaceCombiner<T>>(default);
    }
}
