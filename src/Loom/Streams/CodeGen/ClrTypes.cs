using System.Linq.Expressions;
using Loom.Streams.Execution;
using Loom.Streams.Semantics;

namespace Loom.Streams.CodeGen;

/// <summary>How StreamIt types are held at run time: int and bit as int, structs and complex as <see cref="SValue"/>, arrays as jagged CLR arrays.</summary>
public static class ClrTypes
{
    public static Type Of(SType t) => t switch
    {
        _ when t.IsIntLike => typeof(int),
        _ when t == SType.Float => typeof(float),
        _ when t == SType.Double => typeof(double),
        _ when t == SType.Boolean => typeof(bool),
        _ when t == SType.String => typeof(string),
        _ when t == SType.Void => typeof(void),
        StructType => typeof(SValue),
        ArrayType a => Jagged(Of(a.Element), a.Rank),
        PortalType => typeof(object),
        _ => throw new UnsupportedException($"stream type {t} has no run-time form"),
    };

    public static Type Jagged(Type element, int rank)
    {
        var t = element;
        for (int i = 0; i < rank; i++) t = t.MakeArrayType();
        return t;
    }

    /// <summary>The zero value of a scalar or a fresh struct; arrays are made by <see cref="ArrayAlloc"/>.</summary>
    public static Expression Default(SType t) => t switch
    {
        StructType s => Expression.New(typeof(SValue).GetConstructor([typeof(int)])!, Expression.Constant(s.Leaves.Count)),
        // A declared portal is a fresh one (filters join it with 'add … to p').
        PortalType => Expression.Convert(Expression.New(typeof(Portal)), typeof(object)),
        _ => Expression.Default(Of(t)),
    };

    public static int StructLeaves(SType t) => t is StructType s ? s.Leaves.Count : 0;
}

/// <summary>Allocation and clearing of (jagged) arrays whose sizes are known only per instance.</summary>
public static class ArrayAlloc
{
    public static object Make(Type element, int[] sizes, int structLeaves) => Make(element, sizes, structLeaves, 0);

    private static Array Make(Type element, int[] sizes, int structLeaves, int level)
    {
        if (sizes[level] < 0) throw new StreamException($"array size {sizes[level]} is negative");
        var inner = ClrTypes.Jagged(element, sizes.Length - level - 1);
        var a = Array.CreateInstance(inner, sizes[level]);
        if (level < sizes.Length - 1)
            for (int i = 0; i < a.Length; i++) a.SetValue(Make(element, sizes, structLeaves, level + 1), i);
        else if (element == typeof(SValue))
            for (int i = 0; i < a.Length; i++) a.SetValue(new SValue(structLeaves), i);
        return a;
    }

    /// <summary>Zeroes every element (recursively for jagged arrays, leaf by leaf for structs): Java's fresh-array value.</summary>
    /// <summary>
    /// Zeroes a one-dimensional array of plain items (a local array's fresh value at each declaration). A span
    /// clear is a little quicker than <c>Array.Clear(Array)</c> (FFT2, RadixSort); an inlined loop was slower
    /// (RadixSort 40% slower: the work functions' code grew).
    /// </summary>
    public static void Clear<T>(T[] a) => a.AsSpan().Clear();

    /// <summary>
    /// Zeroes a two-dimensional array of numbers row by row. <see cref="Zero"/> enumerates the outer array through
    /// <c>IEnumerable</c> (an enumerator allocated per call) and looks types up: 5% of DCT's time, for its 8×8 block.
    /// </summary>
    public static void Clear2<T>(T[][] a)
    {
        foreach (var row in a) row.AsSpan().Clear();
    }

    public static void Zero(Array a)
    {
        var et = a.GetType().GetElementType()!;
        if (et.IsArray) { foreach (Array inner in a) Zero(inner); return; }
        if (et == typeof(SValue)) { foreach (SValue s in a) Array.Clear(s.L); return; }
        Array.Clear(a);
    }
}
