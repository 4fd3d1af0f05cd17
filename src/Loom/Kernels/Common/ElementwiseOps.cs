using System.Numerics;

namespace Loom.Kernels.Common;

// Operator families. Each operator is a struct with one static generic Invoke that serves every element
// type of its family; the adapter structs below bind it to one concrete type for the loops.

/// <summary>Float math (Exp, Sin, Sigmoid, Elu, ...) for float32/float64; attribute values come in <paramref name="p"/>.</summary>
internal interface IFloatOp
{
    static abstract T Invoke<T>(T x, in ActivationParams p) where T : IFloatingPointIeee754<T>;
}

/// <summary>Float attributes of an activation (alpha, beta, gamma), zero when unused.</summary>
internal readonly record struct ActivationParams(float Alpha = 0, float Beta = 0, float Gamma = 0);

/// <summary>A unary op defined for every number (Abs, Neg, Sign, Relu).</summary>
internal interface INumberOp
{
    static abstract T Invoke<T>(T x) where T : INumber<T>;
}

/// <summary>A binary op defined for every number (Add, Max, Mod, PRelu, ...).</summary>
internal interface IBinaryNumberOp
{
    static abstract T Invoke<T>(T x, T y) where T : INumber<T>;
}

/// <summary>A comparison of two numbers (Equal, Less, ...).</summary>
internal interface IComparisonOp
{
    static abstract bool Invoke<T>(T x, T y) where T : INumber<T>;
}

/// <summary>A binary op on integers (bitwise ops, shifts).</summary>
internal interface IBinaryIntegerOp
{
    static abstract T Invoke<T>(T x, T y) where T : IBinaryInteger<T>;
}

/// <summary>A binary op on booleans (And, Or, Xor).</summary>
internal interface ILogicOp
{
    static abstract bool Invoke(bool x, bool y);
}

internal readonly struct FloatFunc<TOp, T>(ActivationParams p) : IUnaryFunc<T, T>
    where TOp : IFloatOp where T : IFloatingPointIeee754<T>
{
    private readonly ActivationParams _p = p;
    public T Invoke(T x) => TOp.Invoke(x, _p);
}

internal readonly struct NumberFunc<TOp, T> : IUnaryFunc<T, T> where TOp : INumberOp where T : INumber<T>
{
    public T Invoke(T x) => TOp.Invoke(x);
}

internal readonly struct BinaryNumberFunc<TOp, T> : IBinaryFunc<T, T, T> where TOp : IBinaryNumberOp where T : INumber<T>
{
    public T Invoke(T x, T y) => TOp.Invoke(x, y);
}

internal readonly struct ComparisonFunc<TOp, T> : IBinaryFunc<T, T, bool> where TOp : IComparisonOp where T : INumber<T>
{
    public bool Invoke(T x, T y) => TOp.Invoke(x, y);
}

internal readonly struct BinaryIntegerFunc<TOp, T> : IBinaryFunc<T, T, T> where TOp : IBinaryIntegerOp where T : IBinaryInteger<T>
{
    public T Invoke(T x, T y) => TOp.Invoke(x, y);
}

internal readonly struct LogicFunc<TOp> : IBinaryFunc<bool, bool, bool> where TOp : ILogicOp
{
    public bool Invoke(bool x, bool y) => TOp.Invoke(x, y);
}
